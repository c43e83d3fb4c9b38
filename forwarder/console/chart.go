package console

import (
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// chart is a bar chart of calls per hour, drawn as SVG by the template.
type chart struct {
	Title string
	// Width and Height are the SVG's view box.
	Width, Height float64
	Bars          []bar
	Ticks         []tick
	Max, Total    int
	Summary       string
}

// bar is one hour.
type bar struct {
	X, Y, W, H float64
	Count      int
	Hour       time.Time
}

// tick labels the axis; the ticks are evenly spaced from the chart's
// start to now.
type tick struct {
	Label string
}

// hourly charts the calls per hour (store.Tallies.Hours) in the hours
// hours up to now.
func hourly(title string, calls []store.HourTally, now time.Time, hours int) chart {
	ch := chart{Title: title, Width: 720, Height: 126}
	end := now.UTC().Truncate(time.Hour).Add(time.Hour)
	start := end.Add(-time.Duration(hours) * time.Hour)
	counts := make([]int, hours)
	for _, h := range calls {
		if h.Hour.Before(start) || !h.Hour.Before(end) {
			continue
		}
		counts[int(h.Hour.Sub(start)/time.Hour)] += h.Calls
		ch.Total += h.Calls
	}
	for _, n := range counts {
		ch.Max = max(ch.Max, n)
	}
	w := ch.Width / float64(hours)
	gap := min(2, w/4)
	for i, n := range counts {
		h := 0.0
		if ch.Max > 0 {
			h = float64(n) / float64(ch.Max) * (ch.Height - 6)
		}
		if n > 0 {
			h = max(h, 1.5)
		}
		ch.Bars = append(ch.Bars, bar{X: float64(i) * w, Y: ch.Height - h, W: w - gap, H: h, Count: n, Hour: start.Add(time.Duration(i) * time.Hour)})
	}
	every := 6
	layout := "15:04"
	if hours > 48 {
		every, layout = 24, "Mon 2"
	}
	for i := 0; i < hours; i += every {
		ch.Ticks = append(ch.Ticks, tick{Label: start.Add(time.Duration(i) * time.Hour).Format(layout)})
	}
	ch.Ticks = append(ch.Ticks, tick{Label: "now"})
	ch.Summary = fmt.Sprintf("%d calls in all, at most %d in one hour (times in UTC)", ch.Total, ch.Max)
	return ch
}
