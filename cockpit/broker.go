package cockpit

import (
	"context"
	"sync"

	"fengqiao"
)

// Broker fans newly indexed events out to live subscribers (the cockpit's alert
// feed and risk warnings). A subscriber too slow to keep up misses events rather
// than slowing ingest.
type Broker struct {
	mu   sync.Mutex
	subs map[chan *fengqiao.Event]struct{}
}

// NewBroker returns a broker with no subscribers.
func NewBroker() *Broker { return &Broker{subs: map[chan *fengqiao.Event]struct{}{}} }

// Publish offers events to every subscriber without waiting.
func (b *Broker) Publish(events []*fengqiao.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		for _, e := range events {
			select {
			case ch <- e:
			default: // full: the subscriber misses this one
			}
		}
	}
}

// Subscribers is how many subscribers the broker has now.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Subscribe returns the events published from now until ctx ends.
func (b *Broker) Subscribe(ctx context.Context) <-chan *fengqiao.Event {
	ch := make(chan *fengqiao.Event, 256)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, ch)
		close(ch)
		b.mu.Unlock()
	}()
	return ch
}
