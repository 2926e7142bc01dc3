//go:build windows

// containerd 1.6's sources carry no Go type for hcsshim's runhcs stats, so Statistics is read with
// protowire by runhcs's field numbers (hcsshim cmd/containerd-shim-runhcs-v1/stats/stats.proto):
// Statistics{1 windows WindowsContainerStatistics, 2 linux, 3 vm}; WindowsContainerStatistics{1 timestamp,
// 2 container_start_time, 3 uptime_ns, 4 processor, 5 memory, 6 storage}; processor{1 total_runtime_ns,
// 2 runtime_user_ns, 3 runtime_kernel_ns}; memory{1 commit_bytes, 2 commit_peak_bytes,
// 3 private_working_set_bytes}; storage{1 read_count_normalized, 2 read_size_bytes,
// 3 write_count_normalized, 4 write_size_bytes}.
package main

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

const runhcsStatsURL = "containerd.runhcs.stats.v1.Statistics"

type winStats struct {
	HasWindows, HasTimestamp, HasStart             bool
	UptimeNs                                       uint64
	TotalRuntimeNs, RuntimeUserNs, RuntimeKernelNs uint64
	CommitBytes, CommitPeakBytes, PrivateWSBytes   uint64
	ReadCount, ReadBytes, WriteCount, WriteBytes   uint64
}

// fields calls f for each field of a message; varints give v, length-delimited fields give b.
func fields(msg []byte, f func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v uint64
		var b []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		if err := f(num, typ, v, b); err != nil {
			return err
		}
	}
	return nil
}

func varints(msg []byte, into map[protowire.Number]*uint64) error {
	return fields(msg, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		if p := into[num]; p != nil {
			if typ != protowire.VarintType {
				return fmt.Errorf("field %d: wire type %d, want varint", num, typ)
			}
			*p = v
		}
		return nil
	})
}

func decodeRunhcsStats(b []byte) (*winStats, error) {
	s := &winStats{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, wb []byte) error {
		if num != 1 {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("Statistics.windows: wire type %d", typ)
		}
		s.HasWindows = true
		return fields(wb, func(num protowire.Number, typ protowire.Type, v uint64, sub []byte) error {
			switch num {
			case 1:
				s.HasTimestamp = true
			case 2:
				s.HasStart = true
			case 3:
				s.UptimeNs = v
			case 4:
				return varints(sub, map[protowire.Number]*uint64{1: &s.TotalRuntimeNs, 2: &s.RuntimeUserNs,
					3: &s.RuntimeKernelNs})
			case 5:
				return varints(sub, map[protowire.Number]*uint64{1: &s.CommitBytes, 2: &s.CommitPeakBytes,
					3: &s.PrivateWSBytes})
			case 6:
				return varints(sub, map[protowire.Number]*uint64{1: &s.ReadCount, 2: &s.ReadBytes, 3: &s.WriteCount,
					4: &s.WriteBytes})
			}
			return nil
		})
	})
	return s, err
}
