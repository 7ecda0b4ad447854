package websocket

import "testing"

// The send budget's admission rule (design: "past it the route's policy applies").
func TestSendBudgetAdmission(t *testing.T) {
	const budget = 1000
	cases := []struct {
		name      string
		queued, n int64
		over      bool
	}{
		{"a message that fits an empty queue goes", 0, 1000, false},
		{"a message that fits beside the queue goes", 400, 600, false},
		{"a message that would take the queue past the budget is refused", 401, 600, true},
		{"a message larger than the budget goes on an empty queue (else it never could)", 0, 16 << 20, false},
		{"a message larger than the budget goes while the queue is under the budget", 999, 5000, false},
		{"a message larger than the budget is refused once the queue has reached it", 1000, 5000, true},
		{"an empty message goes on a full queue", 1000, 0, false},
		{"an empty message is refused past the budget", 1001, 0, true},
	}
	for _, tc := range cases {
		if got := overBudget(tc.queued, tc.n, budget); got != tc.over {
			t.Errorf("%s: overBudget(%d, %d, %d) = %v", tc.name, tc.queued, tc.n, budget, got)
		}
	}
}
