package bench

import (
	"fmt"
	"html"
	"strings"
)

// Chart draws the medians as horizontal bars, one panel per scenario and figure:
// throughput (or memory per connection for ws-hold, CPU for ws-idle) and server CPU per
// op; then the paced scenarios as CPU-against-rate lines (pacedchart.go). switchyard's
// bar is drawn in its own colour. Plain SVG, written by hand: no plotting dependency.
func (r *Report) Chart() string {
	type bar struct {
		label string
		v     float64
		sy    bool
	}
	type panel struct {
		title string
		bars  []bar
	}
	var panels []panel
	for _, sc := range r.Scenarios {
		var rate, cpu, kib panel
		rate.title = fmt.Sprintf("%s: %s/s (higher is better)", sc.Name, sc.Unit())
		cpu.title = fmt.Sprintf("%s: server CPU µs per %s (lower is better)", sc.Name, strings.TrimSuffix(sc.Unit(), "s"))
		kib.title = fmt.Sprintf("%s: server KiB per idle connection (lower is better)", sc.Name)
		for _, s := range r.Summaries {
			if s.Scenario != sc.Name || s.Runs == s.Failed {
				continue
			}
			sy := s.Server == "switchyard"
			rate.bars = append(rate.bars, bar{s.Server, s.Rate, sy})
			cpu.bars = append(cpu.bars, bar{s.Server, s.ServerUsPer, sy})
			kib.bars = append(kib.bars, bar{s.Server, s.KiBPerConn, sy})
		}
		switch {
		case sc.Kind == KindHold:
			panels = append(panels, kib)
			continue
		case sc.Kind == KindWSIdle:
			idle := panel{title: fmt.Sprintf("%s: server CPU, %% of one core, idle (lower is better)", sc.Name)}
			for _, s := range r.Summaries {
				if s.Scenario == sc.Name && s.Runs > s.Failed {
					idle.bars = append(idle.bars, bar{s.Server, s.ServerCores * 100, s.Server == "switchyard"})
				}
			}
			panels = append(panels, idle)
			continue
		case sc.IsPaced():
			continue // drawn as lines below
		}
		panels = append(panels, rate, cpu)
	}
	const (
		width, left, right = 860, 110, 120
		rowH, gap, titleH  = 18, 4, 26
	)
	height := 10 + r.rateCharts()*rateChartH
	for _, p := range panels {
		height += titleH + len(p.bars)*(rowH+gap) + 12
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	y := 10
	for _, p := range panels {
		fmt.Fprintf(&b, `<text x="8" y="%d" font-weight="bold">%s</text>`+"\n", y+16, html.EscapeString(p.title))
		y += titleH
		maxV := 0.0
		for _, x := range p.bars {
			maxV = max(maxV, x.v)
		}
		for _, x := range p.bars {
			w := 0.0
			if maxV > 0 {
				w = x.v / maxV * float64(width-left-right)
			}
			color := "#8a9bb0"
			if x.sy {
				color = "#d9480f"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+13, html.EscapeString(x.label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y, w, rowH, color)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(left)+w+6, y+13, num(x.v))
			y += rowH + gap
		}
		y += 12
	}
	r.drawRateCharts(&b, y, width)
	b.WriteString("</svg>\n")
	return b.String()
}

func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
