package bench

import (
	"sort"
	"time"
)

// Summary is the median of one server's runs in one scenario, with ratios to switchyard
// (this server's figure divided by switchyard's: switchyard's row is 1).
type Summary struct {
	Scenario    string  `json:"scenario"`
	Server      string  `json:"server"`
	Runs        int     `json:"runs"`
	Failed      int     `json:"failed_runs"`
	Rate        float64 `json:"rate"`
	MBps        float64 `json:"mb_per_s,omitempty"`
	ServerUsPer float64 `json:"server_cpu_us_per_op"`
	ClientUsPer float64 `json:"client_cpu_us_per_op"`
	ServerCores float64 `json:"server_cores"` // CPU seconds per second
	ClientCores float64 `json:"client_cores"`
	OtherCores  float64 `json:"other_cores"` // everything else on the machine
	P50         float64 `json:"p50_us"`
	P90         float64 `json:"p90_us"`
	P99         float64 `json:"p99_us"`
	P999        float64 `json:"p999_us"`
	Mean        float64 `json:"mean_us"`
	Conns       int     `json:"conns,omitempty"` // fewest connections any run established
	KiBPerConn  float64 `json:"kib_per_conn,omitempty"`
	RSSBefore   float64 `json:"rss_before_kib,omitempty"`
	RSSAfter    float64 `json:"rss_after_kib,omitempty"`
	Errors      uint64  `json:"errors"` // all runs together
	ErrorSample string  `json:"error_sample,omitempty"`
	Note        string  `json:"note,omitempty"`

	RateX float64 `json:"rate_vs_switchyard,omitempty"`
	CPUX  float64 `json:"cpu_per_op_vs_switchyard,omitempty"`
	KiBX  float64 `json:"kib_per_conn_vs_switchyard,omitempty"`
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summarize computes the medians, ratios and bars from the runs.
func (r *Report) summarize() {
	r.Finished = time.Now()
	r.Summaries = nil
	for _, sc := range r.Scenarios {
		var rows []Summary
		for _, name := range sc.serversFor(r.only) {
			rows = append(rows, summarizeRuns(sc.Name, name, r.Runs))
		}
		var sy *Summary
		for i := range rows {
			if rows[i].Server == "switchyard" && rows[i].Runs > rows[i].Failed {
				sy = &rows[i]
			}
		}
		for i := range rows {
			if sy == nil {
				break
			}
			row := &rows[i]
			row.RateX = ratio(row.Rate, sy.Rate)
			row.CPUX = ratio(row.ServerUsPer, sy.ServerUsPer)
			row.KiBX = ratio(row.KiBPerConn, sy.KiBPerConn)
		}
		r.Summaries = append(r.Summaries, rows...)
	}
	r.Bars = evaluateBars(r)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func summarizeRuns(scenario, server string, runs []Run) Summary {
	s := Summary{Scenario: scenario, Server: server, Conns: -1}
	var rate, mb, su, cu, sc, cc, oc, p50, p90, p99, p999, mean, kib, before, after []float64
	for _, r := range runs {
		if r.Scenario != scenario || r.Server != server {
			continue
		}
		s.Runs++
		m := r.Metrics
		s.Errors += m.Errors
		if m.ErrorSample != "" {
			s.ErrorSample = m.ErrorSample
		}
		if r.Err != "" {
			s.Failed++
			s.ErrorSample = r.Err
			continue
		}
		if m.Note != "" {
			s.Note = m.Note
		}
		rate = append(rate, m.Rate)
		mb = append(mb, m.MBps)
		su = append(su, m.ServerUsPer)
		cu = append(cu, m.ClientUsPer)
		if m.Seconds > 0 {
			sc = append(sc, m.ServerCPU/m.Seconds)
			cc = append(cc, m.ClientCPU/m.Seconds)
			oc = append(oc, m.OtherCPU/m.Seconds)
		}
		l := m.Latency
		p50, p90, p99, p999, mean = append(p50, float64(l.P50)), append(p90, float64(l.P90)),
			append(p99, float64(l.P99)), append(p999, float64(l.P999)), append(mean, float64(l.Mean))
		kib = append(kib, m.KiBPerConn)
		before, after = append(before, float64(m.RSSBeforeKiB)), append(after, float64(m.RSSAfterKiB))
		if s.Conns < 0 || m.Conns < s.Conns {
			s.Conns = m.Conns
		}
	}
	if s.Conns < 0 {
		s.Conns = 0
	}
	s.Rate, s.MBps, s.ServerUsPer, s.ClientUsPer = median(rate), median(mb), median(su), median(cu)
	s.ServerCores, s.ClientCores, s.OtherCores = median(sc), median(cc), median(oc)
	s.P50, s.P90, s.P99, s.P999, s.Mean = median(p50), median(p90), median(p99), median(p999), median(mean)
	s.KiBPerConn, s.RSSBefore, s.RSSAfter = median(kib), median(before), median(after)
	return s
}

// summary finds the row of server in scenario.
func (r *Report) summary(scenario, server string) *Summary {
	for i := range r.Summaries {
		if r.Summaries[i].Scenario == scenario && r.Summaries[i].Server == server {
			return &r.Summaries[i]
		}
	}
	return nil
}
