//go:build windows

package main

// A client of cshim's own push stream, cshim.stats.v1.Stats/Watch (proto/cshim/stats.proto), for the scenarios.
// Debian's containerd/ttrpc (1.1) has no streams, so the frames are written by hand with protowire: the request
// (type 1) with the remote-closed flag, as ttrpc 1.2's client sends a server-streaming call; the samples come as
// data frames (type 3) and the stream ends with a response (type 2) or a data frame flagged remote-closed.

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

type watchIface struct {
	Name              string
	RxBytes, TxBytes  uint64
	RxPackets, TxPkts uint64
}

// watchSamples asks for count samples of task id at intervalMs and answers the net entries of each.
func watchSamples(address, id string, intervalMs, count uint64) ([][]watchIface, error) {
	conn, err := dialPipeServed(address, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var wr []byte
	wr = protowire.AppendTag(wr, 1, protowire.BytesType)
	wr = protowire.AppendString(wr, id)
	wr = protowire.AppendTag(wr, 2, protowire.VarintType)
	wr = protowire.AppendVarint(wr, intervalMs)
	wr = protowire.AppendTag(wr, 3, protowire.VarintType)
	wr = protowire.AppendVarint(wr, count)
	var req []byte // ttrpc Request{service 1, method 2, payload 3}
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendString(req, "cshim.stats.v1.Stats")
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendString(req, "Watch")
	req = protowire.AppendTag(req, 3, protowire.BytesType)
	req = protowire.AppendBytes(req, wr)
	hdr := make([]byte, 10)
	binary.BigEndian.PutUint32(hdr[0:], uint32(len(req)))
	binary.BigEndian.PutUint32(hdr[4:], 1)
	hdr[8], hdr[9] = 1, 0x1 // request, remote closed
	if _, err := conn.Write(append(hdr, req...)); err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var out [][]watchIface
	for {
		if _, err := io.ReadFull(conn, hdr); err != nil {
			return out, err
		}
		n, typ, flags := binary.BigEndian.Uint32(hdr[0:]), hdr[8], hdr[9]
		body := make([]byte, n)
		if _, err := io.ReadFull(conn, body); err != nil {
			return out, err
		}
		if typ == 2 {
			return out, responseErr(body)
		}
		if typ == 3 && n > 0 {
			s, err := sampleNet(body)
			if err != nil {
				return out, err
			}
			out = append(out, s)
		}
		if flags&0x1 != 0 {
			return out, nil
		}
	}
}

// responseErr reads a ttrpc Response{status 1 {code 1, message 2}}: nil for OK.
func responseErr(b []byte) error {
	var code uint64
	var msg string
	err := fields(b, func(num protowire.Number, _ protowire.Type, _ uint64, st []byte) error {
		if num != 1 {
			return nil
		}
		return fields(st, func(num protowire.Number, _ protowire.Type, v uint64, s []byte) error {
			if num == 1 {
				code = v
			} else if num == 2 {
				msg = string(s)
			}
			return nil
		})
	})
	if err == nil && code != 0 {
		err = fmt.Errorf("Watch: code %d: %s", code, msg)
	}
	return err
}

// sampleNet reads Sample.net (10): NetIface{name 1, rx_bytes 2, rx_packets 3, ..., tx_bytes 6, tx_packets 7}.
func sampleNet(b []byte) ([]watchIface, error) {
	var out []watchIface
	err := fields(b, func(num protowire.Number, _ protowire.Type, _ uint64, sub []byte) error {
		if num != 10 {
			return nil
		}
		var w watchIface
		err := fields(sub, func(num protowire.Number, _ protowire.Type, v uint64, s []byte) error {
			switch num {
			case 1:
				w.Name = string(s)
			case 2:
				w.RxBytes = v
			case 3:
				w.RxPackets = v
			case 6:
				w.TxBytes = v
			case 7:
				w.TxPkts = v
			}
			return nil
		})
		out = append(out, w)
		return err
	})
	return out, err
}
