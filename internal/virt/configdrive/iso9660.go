// Package configdrive builds OpenStack config drives: ISO 9660 images
// labelled config-2 holding the metadata a guest reads at boot.
package configdrive

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

const sector = 2048

// isoNode is a file or directory in the image being written.
type isoNode struct {
	name     string
	data     []byte
	dir      bool
	children []*isoNode
	parent   *isoNode
	number   int // directory number in the path table (1 = root)
	extent   uint32
	size     uint32
}

// WriteISO writes an ISO 9660 image with volume label label holding files
// (slash-separated paths to contents). Names are kept as given (lowercase
// included), which Linux's isofs and cloud-init read as-is.
func WriteISO(w io.Writer, label string, files map[string][]byte, now time.Time) error {
	root := &isoNode{dir: true}
	for p, data := range files {
		if err := root.add(strings.Split(strings.Trim(p, "/"), "/"), data); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
	}
	dirs := root.breadthFirst()
	for i, d := range dirs {
		d.number = i + 1
	}
	pathTable := buildPathTable(dirs, binary.LittleEndian)
	ptSectors := sectorsFor(len(pathTable))
	next := uint32(18 + 2*ptSectors) // after the descriptors and both path tables
	for _, d := range dirs {
		d.size = uint32(sectorsFor(dirLength(d)) * sector)
		d.extent = next
		next += d.size / sector
	}
	var filesInOrder []*isoNode
	for _, d := range dirs {
		for _, c := range d.children {
			if !c.dir {
				c.extent, c.size = next, uint32(len(c.data))
				next += uint32(sectorsFor(len(c.data)))
				filesInOrder = append(filesInOrder, c)
			}
		}
	}
	total := next
	lTable := buildPathTable(dirs, binary.LittleEndian)
	mTable := buildPathTable(dirs, binary.BigEndian)

	img := make([]byte, int(total)*sector)
	writePVD(img[16*sector:], label, total, len(lTable), 18, uint32(18+ptSectors), root, now)
	term := img[17*sector:]
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
	copy(img[18*sector:], lTable)
	copy(img[(18+ptSectors)*sector:], mTable)
	for _, d := range dirs {
		writeDir(img[int(d.extent)*sector:int(d.extent)*sector+int(d.size)], d, now)
	}
	for _, f := range filesInOrder {
		copy(img[int(f.extent)*sector:], f.data)
	}
	_, err := w.Write(img)
	return err
}

func (n *isoNode) add(parts []string, data []byte) error {
	name := parts[0]
	if name == "" || len(name) > 200 {
		return fmt.Errorf("bad name %q", name)
	}
	var child *isoNode
	for _, c := range n.children {
		if c.name == name {
			child = c
		}
	}
	if len(parts) == 1 {
		if child != nil {
			return fmt.Errorf("%q given twice", name)
		}
		n.children = append(n.children, &isoNode{name: name, data: data, parent: n})
		n.sort()
		return nil
	}
	if child == nil {
		child = &isoNode{name: name, dir: true, parent: n}
		n.children = append(n.children, child)
		n.sort()
	} else if !child.dir {
		return fmt.Errorf("%q is a file", name)
	}
	return child.add(parts[1:], data)
}

func (n *isoNode) sort() {
	sort.Slice(n.children, func(i, j int) bool { return n.children[i].name < n.children[j].name })
}

// breadthFirst lists directories in path-table order: by level, then by
// parent number, then by name.
func (n *isoNode) breadthFirst() []*isoNode {
	out := []*isoNode{n}
	for i := 0; i < len(out); i++ {
		for _, c := range out[i].children {
			if c.dir {
				out = append(out, c)
			}
		}
	}
	return out
}

func sectorsFor(n int) int {
	if n == 0 {
		return 0
	}
	return (n + sector - 1) / sector
}

func recordLength(idLen int) int {
	l := 33 + idLen
	if l%2 == 1 {
		l++
	}
	return l
}

// dirLength is a directory's size: its records, none crossing a sector.
func dirLength(d *isoNode) int {
	used, sectors := 0, 1
	for _, l := range dirRecordLengths(d) {
		if used+l > sector {
			sectors++
			used = 0
		}
		used += l
	}
	return (sectors-1)*sector + used
}

func dirRecordLengths(d *isoNode) []int {
	out := []int{recordLength(1), recordLength(1)}
	for _, c := range d.children {
		out = append(out, recordLength(len(c.isoName())))
	}
	return out
}

// isoName is the identifier recorded: files carry the ";1" version that
// readers strip.
func (n *isoNode) isoName() string {
	if n.dir {
		return n.name
	}
	return n.name + ";1"
}

func buildPathTable(dirs []*isoNode, order binary.ByteOrder) []byte {
	var out []byte
	for _, d := range dirs {
		id := []byte(d.name)
		parent := 1
		if d.parent != nil {
			parent = d.parent.number
		} else {
			id = []byte{0}
		}
		rec := make([]byte, 8+len(id)+len(id)%2)
		rec[0] = byte(len(id))
		order.PutUint32(rec[2:], d.extent)
		order.PutUint16(rec[6:], uint16(parent))
		copy(rec[8:], id)
		out = append(out, rec...)
	}
	return out
}

func writeDir(buf []byte, d *isoNode, now time.Time) {
	off := 0
	put := func(id []byte, extent, size uint32, dir bool) {
		l := recordLength(len(id))
		if off%sector+l > sector {
			off += sector - off%sector
		}
		writeRecord(buf[off:off+l], id, extent, size, dir, now)
		off += l
	}
	parent := d.parent
	if parent == nil {
		parent = d
	}
	put([]byte{0}, d.extent, d.size, true)
	put([]byte{1}, parent.extent, parent.size, true)
	for _, c := range d.children {
		put([]byte(c.isoName()), c.extent, c.size, c.dir)
	}
}

func writeRecord(rec []byte, id []byte, extent, size uint32, dir bool, now time.Time) {
	rec[0] = byte(len(rec))
	bothEndian32(rec[2:], extent)
	bothEndian32(rec[10:], size)
	t := now.UTC()
	rec[18] = byte(t.Year() - 1900)
	rec[19], rec[20], rec[21], rec[22], rec[23] = byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second())
	if dir {
		rec[25] = 2
	}
	bothEndian16(rec[28:], 1)
	rec[32] = byte(len(id))
	copy(rec[33:], id)
}

func writePVD(b []byte, label string, total uint32, ptSize int, lLoc, mLoc uint32, root *isoNode, now time.Time) {
	b[0] = 1
	copy(b[1:], "CD001")
	b[6] = 1
	padded(b[8:40], "LINUX")
	padded(b[40:72], label)
	bothEndian32(b[80:], total)
	bothEndian16(b[120:], 1)
	bothEndian16(b[124:], 1)
	bothEndian16(b[128:], sector)
	bothEndian32(b[132:], uint32(ptSize))
	binary.LittleEndian.PutUint32(b[140:], lLoc)
	binary.BigEndian.PutUint32(b[148:], mLoc)
	writeRecord(b[156:190], []byte{0}, root.extent, root.size, true, now)
	for _, r := range [][2]int{{190, 318}, {318, 446}, {446, 574}, {574, 702}, {702, 739}, {739, 776}, {776, 813}} {
		padded(b[r[0]:r[1]], "")
	}
	padded(b[574:702], "KUMO")
	stamp := []byte(now.UTC().Format("20060102150405") + "00")
	copy(b[813:], stamp)
	copy(b[830:], stamp)
	copy(b[847:], "0000000000000000")
	copy(b[864:], "0000000000000000")
	b[881] = 1
}

func padded(b []byte, s string) {
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

func bothEndian32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func bothEndian16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}
