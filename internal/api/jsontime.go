package api

import "time"

// The layouts AppendUTC writes without time.Time.AppendFormat: Nova's
// isotime and Python's naive datetime with microseconds. A listing of
// 1000 servers writes a few thousand of them, and AppendFormat, which
// parses its layout each time, was a tenth of the encoding.
const (
	isoSecondsLayout = "2006-01-02T15:04:05Z"
	naiveMicroLayout = "2006-01-02T15:04:05.000000"
)

// AppendUTC appends t in UTC formatted by layout, as
// t.UTC().AppendFormat(b, layout) does.
func AppendUTC(b []byte, t time.Time, layout string) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 || (layout != isoSecondsLayout && layout != naiveMicroLayout) {
		return t.AppendFormat(b, layout)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	if layout == isoSecondsLayout {
		return append(b, 'Z')
	}
	return appendDigits(append(b, '.'), t.Nanosecond()/1000, 6)
}

// appendDigits appends v (not negative) zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [8]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}
