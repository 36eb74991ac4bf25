package fengqiao

import (
	"context"
	"time"
)

// CaseCluster is a group of similar cases (类案): events of different reporters
// about one target and one subject — one gym's prepaid members, one estate's
// unpaid wages, one school's fees — whatever their chains and sources. Where one
// chain is one matter, a cluster shows a collective matter, or a blind spot of
// supervision (监管盲区). Its ID is stable: derived from its target and subject.
type CaseCluster struct {
	ID         string
	Target     string // the body or place the cases name: 华庭小区, 某某健身服务有限公司
	TargetKind string // 单位, 小区, 学校, 医院, 市场, 项目, 地址
	Subject    string // what they are about: 预付消费, 拖欠工资, 积水…
	EventIDs   []string
}

// ClusterFilter narrows a list of clusters.
type ClusterFilter struct {
	// MinReporters keeps clusters of at least this many distinct reporters, over
	// all their events. Default 2.
	MinReporters int
	// Since keeps clusters with an event reported at or after it.
	Since time.Time
}

// ClusterService reads case clusters; the chains package implements it.
type ClusterService interface {
	// Clusters returns clusters, most recently active first.
	Clusters(ctx context.Context, f ClusterFilter, limit int) ([]*CaseCluster, error)
	// Cluster returns a cluster by its ID, or ENOTFOUND.
	Cluster(ctx context.Context, id string) (*CaseCluster, error)
}
