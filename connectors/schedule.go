package connectors

import (
	"context"
	"sync"
	"time"

	"fengqiao"
)

// DefaultConcurrency is how many connectors sync at once when Runner.Concurrency
// is not set.
const DefaultConcurrency = 8

// schedule is the queue of connectors due for a sync that Run's workers take
// from: each connector is in it at most once, waiting for its interval (on a
// timer, no goroutine), queued, or syncing.
type schedule struct {
	ctx      context.Context
	interval time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*scheduled
	entries map[string]*scheduled
	closed  bool
}

// scheduled is one connector's place in the schedule.
type scheduled struct {
	c     fengqiao.Connector
	state int // waiting, queued or syncing
	timer *time.Timer
	woken bool // woken while queued or syncing: due again at once after the sync
}

const (
	waiting = iota
	queued
	syncing
)

func newSchedule(ctx context.Context, interval time.Duration) *schedule {
	s := &schedule{ctx: ctx, interval: interval, entries: map[string]*scheduled{}}
	s.cond = sync.NewCond(&s.mu)
	context.AfterFunc(ctx, s.close)
	return s
}

// add queues c at once; a Waker connector is queued again whenever it wakes.
func (s *schedule) add(c fengqiao.Connector) {
	s.mu.Lock()
	e := &scheduled{c: c}
	s.entries[c.Name()] = e
	s.due(e)
	s.mu.Unlock()
	if w, ok := c.(fengqiao.Waker); ok {
		go func() {
			for {
				select {
				case <-s.ctx.Done():
					return
				case <-w.Wake():
					s.mu.Lock()
					s.due(e)
					s.mu.Unlock()
				}
			}
		}()
	}
}

// due queues e now, or after its sync if it is syncing. s.mu is held.
func (s *schedule) due(e *scheduled) {
	switch {
	case s.closed:
	case e.state == waiting:
		if e.timer != nil {
			e.timer.Stop()
		}
		e.state = queued
		s.queue = append(s.queue, e)
		s.cond.Signal()
	case e.state == syncing:
		e.woken = true
	}
}

// next takes the connector first in the queue, waiting for one; false once ctx
// has ended.
func (s *schedule) next() (*scheduled, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return nil, false
	}
	e := s.queue[0]
	s.queue = s.queue[1:]
	e.state = syncing
	return e, true
}

// done puts e back after a sync: at the end of the queue when it has more to read
// (so connectors catching up take turns) or woke meanwhile, else after the interval.
func (s *schedule) done(e *scheduled, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.state = waiting
	if more || e.woken {
		e.woken = false
		s.due(e)
		return
	}
	e.timer = time.AfterFunc(s.interval, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if e.state == waiting {
			s.due(e)
		}
	})
}

// close ends the schedule: the workers return, and no timer queues anything.
func (s *schedule) close() {
	s.mu.Lock()
	s.closed = true
	for _, e := range s.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

// work syncs the connectors the schedule hands out until it closes.
func (s *schedule) work(r *Runner) {
	for {
		e, ok := s.next()
		if !ok {
			return
		}
		syncsRunning.Inc()
		caughtUp, err := r.SyncBatch(s.ctx, e.c)
		syncsRunning.Dec()
		s.done(e, err == nil && !caughtUp)
	}
}
