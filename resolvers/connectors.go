package resolvers

import (
	"context"

	"fengqiao"
)

// maintaining lets a county operator act on a connector (replay, reset),
// recording the action in the audit log first; anyone else is refused.
func (r *Resolver) maintaining(ctx context.Context, action, subject string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if !r.isCounty(p) || p.Role != fengqiao.RoleOperator {
		return fengqiao.Errorf(fengqiao.EFORBIDDEN, "%s仅限县级运维员", action)
	}
	if r.Maintenance == nil {
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "本枢纽未提供连接器维护")
	}
	return r.audit(ctx, action, subject)
}

// mayReadConnectors refuses callers outside the county the connectors' state.
func (r *Resolver) mayReadConnectors(ctx context.Context) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if !r.isCounty(p) {
		return fengqiao.Errorf(fengqiao.EFORBIDDEN, "上游系统接入状态仅县级中心可查看")
	}
	return nil
}

// connectorState returns the state of the connector named, or ENOTFOUND.
func (r *Resolver) connectorState(name string) (*fengqiao.ConnectorState, error) {
	states, err := r.Sync.States()
	if err != nil {
		return nil, err
	}
	for i := range states {
		if states[i].Name == name {
			return &states[i], nil
		}
	}
	return nil, fengqiao.Errorf(fengqiao.ENOTFOUND, "连接器不存在：%s", name)
}
