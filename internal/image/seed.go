package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
)

// TinyName is the image every fresh cloud starts with.
const TinyName = "kumo-tiny"

// tinyDiskSize is the size of kumo-tiny's raw disk.
const tinyDiskSize = 512 << 10

// SeedTiny registers the small public "kumo-tiny" image, owned by owner
// (a project id), when no image of that name exists, so a fresh cloud can
// boot something.
func (s *Service) SeedTiny(ctx context.Context, owner string) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM images WHERE name = ? AND deleted = FALSE`, TinyName).Scan(&n); err != nil {
		return fmt.Errorf("look for %s: %w", TinyName, err)
	}
	if n > 0 {
		return nil
	}
	seeder := &auth.Principal{UserID: "kumo", ProjectID: owner, Roles: []string{"admin"}}
	name, raw, bare := TinyName, "raw", "bare"
	// The seed is the cloud's own: no project quota or disk reserve
	// stops it (it is half a megabyte).
	_, err := s.createFromReader(ctx, seeder, CreateRequest{
		Name: &name, Visibility: Public, Owner: owner, DiskFormat: &raw, ContainerFormat: &bare,
		Properties: map[string]string{"hw_architecture": "x86_64", "description": "kumo's built-in test disk"},
	}, bytes.NewReader(tinyDisk()), false)
	if err != nil {
		return fmt.Errorf("seed %s: %w", TinyName, err)
	}
	return nil
}

// bootCode is a real-mode boot sector that prints its message with the
// BIOS teletype call and halts:
//
//	xor ax,ax; mov ds,ax; mov si,msg; mov ah,0x0e
//	next: lodsb; test al,al; jz halt; int 0x10; jmp next
//	halt: cli; hlt; jmp halt
//	msg: "kumo-tiny ...", 0
var bootCode = append([]byte{
	0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x16, 0x7C, 0xB4, 0x0E,
	0xAC, 0x84, 0xC0, 0x74, 0x04, 0xCD, 0x10, 0xEB, 0xF7,
	0xFA, 0xF4, 0xEB, 0xFC,
}, "kumo-tiny booted. Nothing else to do.\r\n\x00"...)

// tinyDisk builds a small raw disk: a boot sector that prints a line and
// halts, an MBR partition table with one Linux partition, and a label in
// the partition's first sector. It is deterministic, so every cloud's
// kumo-tiny has the same checksum.
func tinyDisk() []byte {
	disk := make([]byte, tinyDiskSize)
	copy(disk, bootCode)
	const sector = 512
	const first = 8 // first partition sector, 4 KiB aligned
	// Partition entry 1 at offset 446: status, CHS (unused), type 0x83,
	// CHS (unused), first LBA, sector count.
	entry := disk[446:462]
	entry[0] = 0x80 // active
	entry[4] = 0x83
	binary.LittleEndian.PutUint32(entry[8:12], first)
	binary.LittleEndian.PutUint32(entry[12:16], uint32(tinyDiskSize/sector-first))
	disk[510], disk[511] = 0x55, 0xAA
	copy(disk[first*sector:], "KUMO-TINY test disk: no operating system inside.\n")
	return disk
}
