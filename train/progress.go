package train

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is a progress bar with the running metrics and samples/s, or nothing
// when its writer is nil.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, total int, desc string) bar {
	if w == nil {
		return bar{}
	}
	return bar{progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetItsString("samples"),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)}
}

func (b bar) update(n int, desc string) {
	if b.pb == nil {
		return
	}
	b.pb.Describe(desc)
	b.pb.Add(n)
}

func (b bar) finish() {
	if b.pb != nil {
		b.pb.Finish()
	}
}
