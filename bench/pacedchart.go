package bench

import (
	"fmt"
	"html"
	"sort"
	"strings"
)

// Line charts of the paced kinds: server CPU (% of one core) against the offered rate,
// one line per server, below the bar panels of chart.svg. Rates sit at even steps in
// increasing order (they span 1k to ~100k: a linear axis would crowd the low ones);
// each point is labelled with its value.

const rateChartH = 250 // height of one line chart, title and legend included

var lineColors = []string{"#1c7ed6", "#2f9e44", "#7048e8", "#0c8599", "#e64980", "#5c940d", "#862e9c", "#495057"} // none near switchyard's orange

// rateCharts is how many line charts drawRateCharts draws.
func (r *Report) rateCharts() int {
	n := 0
	for _, kind := range pacedKinds {
		if len(r.scenariosOf(kind)) > 0 {
			n++
		}
	}
	return n
}

// drawRateCharts draws the line charts from y down and returns the y below them.
func (r *Report) drawRateCharts(b *strings.Builder, y, width int) int {
	const left, right, plotH = 70, 150, 170
	for _, kind := range pacedKinds {
		scs := r.scenariosOf(kind)
		if len(scs) == 0 {
			continue
		}
		sort.SliceStable(scs, func(i, j int) bool { return pacedRate(scs[i]) < pacedRate(scs[j]) })
		servers := r.serversOf(scs)
		maxV := 0.0
		for _, sc := range scs {
			for _, s := range servers {
				if m := r.summary(sc.Name, s); m != nil {
					maxV = max(maxV, m.ServerCores*100)
				}
			}
		}
		if maxV <= 0 {
			maxV = 1
		}
		maxV *= 1.1
		fmt.Fprintf(b, `<text x="8" y="%d" font-weight="bold">%s: server CPU, %% of one core, against the offered rate (lower is better)</text>`+"\n", y+16, kind)
		top, plotW := y+30, width-left-right
		bottom := top + plotH
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, left, bottom, left+plotW, bottom)
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`+"\n", left, top, left, bottom)
		for i := 0; i <= 4; i++ {
			v := maxV * float64(i) / 4
			yy := float64(bottom) - float64(plotH)*float64(i)/4
			fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%.0f%%</text>`, left-6, yy+4, v)
			fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", left+1, yy, left+plotW, yy)
		}
		xOf := func(i int) float64 {
			if len(scs) == 1 {
				return float64(left) + float64(plotW)/2
			}
			return float64(left+20) + float64(plotW-40)*float64(i)/float64(len(scs)-1)
		}
		for i, sc := range scs {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s/s</text>`+"\n", xOf(i), bottom+16, num(float64(pacedRate(sc))))
		}
		for k, server := range servers {
			color := lineColors[k%len(lineColors)]
			if server == "switchyard" {
				color = "#d9480f"
			}
			var pts []string
			for i, sc := range scs {
				s := r.summary(sc.Name, server)
				if s == nil || s.Runs == s.Failed {
					continue
				}
				v := s.ServerCores * 100
				px, py := xOf(i), float64(bottom)-v/maxV*float64(plotH)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/><text x="%.1f" y="%.1f" font-size="10" fill="%s">%.1f</text>`+"\n",
					px, py, color, px+5, py-4, color, v)
			}
			if len(pts) > 1 {
				fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), color)
			}
			ly := top + 14*k
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
				left+plotW+14, ly+6, color, left+plotW+32, ly+11, html.EscapeString(server))
		}
		y += rateChartH
	}
	return y
}
