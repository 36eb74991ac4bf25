package fengqiao

import (
	"context"
	"time"
)

// Chain is a group of events about one matter (类案串联), across sources: the
// connected events of the links between them. Its ID is stable: it survives new
// events, merges with other chains (the absorbed chain's ID keeps resolving to
// it) and re-ingest.
type Chain struct {
	ID       string
	EventIDs []string
	Created  time.Time
}

// Link is the evidence that two events concern the same matter.
type Link struct {
	From, To   string
	Reasons    []string // in Chinese: 同一重点项目：…, 文本近似重复（相似度0.93）, 同一当事人且事由相近（电话，相似度0.52）…
	Confidence float64  // 0..1
	// Evidence is what each rule that linked the two found, in the order of
	// Reasons.
	Evidence []LinkEvidence `json:",omitempty"`
}

// LinkEvidence is one link rule's finding that two events concern the same matter.
type LinkEvidence struct {
	// Rule is the rule's name in the link rules file: nearDuplicate, sameReporter,
	// sameNameInVillage, sameProject, sameOrganization, sameTarget, sameAddress,
	// sameDoorplate, refersTo.
	Rule string
	// Score is the similarity that satisfied the rule, 0..1: of the two texts for
	// nearDuplicate, of their subjects for the rules that need similar subjects, 1
	// for the rules that need none.
	Score float64
	// Matched is what the two events share: the names of the organizations,
	// targets or address, the project code, or for a person the kind of identifier
	// (身份证号, 电话, board账号), never its value.
	Matched []string `json:",omitempty"`
	// Confidence is the rule's weight, 0..1.
	Confidence float64
}

// ChainFilter narrows a list of chains.
type ChainFilter struct {
	// MinSize keeps chains of at least this many events. Default 2.
	MinSize int
}

// ChainService reads chains; the chains package implements it.
type ChainService interface {
	// ChainOf returns the chain of an event, or nil if it is linked to none.
	ChainOf(ctx context.Context, eventID string) (*Chain, error)
	// Chain returns a chain by its ID or any ID it absorbed, or ENOTFOUND.
	Chain(ctx context.Context, id string) (*Chain, error)
	// Chains returns chains, largest first.
	Chains(ctx context.Context, f ChainFilter, limit int) ([]*Chain, error)
	// Links returns the links among the given events.
	Links(ctx context.Context, eventIDs []string) ([]Link, error)
}
