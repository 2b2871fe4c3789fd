package natsjs

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDeliveries(t *testing.T) {
	ctx := context.Background()
	s := MustServer(t)
	_, js := MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(ctx, BucketDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.TTL() < 72*time.Hour {
		t.Fatalf("bucket TTL %v (%v): must cover GitHub's 3-day redelivery", st.TTL(), err)
	}
	d := NewDeliveries(kv)
	long := strings.Repeat("x/", 300)
	for _, id := range []string{"72d3162e-cc78-11e3-81ab-4c9367dc0958", "a b/c.d*>", long} {
		if seen, err := d.Seen(ctx, "github", id); err != nil || seen {
			t.Fatalf("Seen(%.20q) before Record = %v, %v", id, seen, err)
		}
		if err := d.Record(ctx, "github", id); err != nil {
			t.Fatalf("Record(%.20q) = %v", id, err)
		}
		if seen, err := d.Seen(ctx, "github", id); err != nil || !seen {
			t.Fatalf("Seen(%.20q) after Record = %v, %v", id, seen, err)
		}
		if seen, _ := d.Seen(ctx, "gitlab", id); seen {
			t.Errorf("a delivery of github is seen for gitlab")
		}
	}
}

func TestDeliveryKey(t *testing.T) {
	if got, want := DeliveryKey("github", "72d3162e-cc78"), "github.72d3162e-cc78"; got != want {
		t.Errorf("DeliveryKey() = %q, want %q", got, want)
	}
	if got := DeliveryKey("gitea", strings.Repeat("é", 100)); len(got) > 80 || !strings.HasPrefix(got, "gitea.h-") {
		t.Errorf("DeliveryKey(long) = %q", got)
	}
	if DeliveryKey("a", "b.c") == DeliveryKey("a.b", "c") {
		t.Error("keys of different deliveries collide")
	}
}

func TestDeliveriesUnavailable(t *testing.T) {
	ctx := context.Background()
	s := MustServer(t)
	_, js := MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(ctx, BucketDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteKeyValue(ctx, BucketDeliveries); err != nil {
		t.Fatal(err)
	}
	d := NewDeliveries(kv)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := d.Seen(ctx, "github", "x"); err == nil {
		t.Error("Seen() on a deleted bucket succeeded")
	}
}
