package fengqiao

import "time"

// RiskLevel is the three-level risk judgement (高中低三级).
type RiskLevel string

const (
	RiskHigh   RiskLevel = "HIGH"
	RiskMedium RiskLevel = "MEDIUM"
	RiskLow    RiskLevel = "LOW"
)

// Rank orders levels: LOW 1, MEDIUM 2, HIGH 3, anything else 0.
func (l RiskLevel) Rank() int {
	switch l {
	case RiskHigh:
		return 3
	case RiskMedium:
		return 2
	case RiskLow:
		return 1
	}
	return 0
}

// Risk is an assessment: the level and, in Chinese, why.
type Risk struct {
	Level   RiskLevel
	Reasons []string
}

// ChainFacts is what risk rules know of a chain.
type ChainFacts struct {
	Size            int
	Sources         []Source // in the order the matter reached them
	Complainants    int      // distinct people who complained, applied, called or sued
	MaxReportsByOne int      // the most events one complainant brought
}

// RiskAssessor judges risk by rules kept as data; the risk package implements it.
type RiskAssessor interface {
	// AssessEvent judges an event, with the facts of its chain if it is in one.
	AssessEvent(e *Event, chain *ChainFacts, now time.Time) Risk
	// AssessChain judges a chain by its facts and its events.
	AssessChain(chain ChainFacts, events []*Event, now time.Time) Risk
	// Status says which rules are in force and how the last reload went.
	Status() RiskRulesStatus
}

// RiskRulesStatus is the state of the risk rules.
type RiskRulesStatus struct {
	Version   string
	Rules     []string
	LoadedAt  time.Time
	LastError string // why the last changed rules file was refused, "" if it was not
}
