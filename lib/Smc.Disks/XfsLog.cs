using System.Buffers.Binary;

namespace Smc.Disks;

/// <summary>
/// Seals the internal log of a frozen XFS: <c>FIFREEZE</c> leaves an XFS log <em>covered</em> (the last records are the
/// dummy superblock transactions of <c>xfs_log_cover</c>, everything else written back), not clean, so an image taken
/// under the freeze makes <c>xfs_repair -n</c> report a log to replay and a mount run recovery. What a clean unmount adds
/// is one more log record, the unmount record; <see cref="PlanSeal"/> builds that record for the log's head, as the
/// kernel's <c>xlog_write_unmount_record</c> and <c>xlog_sync</c> would write it (v2 log record header with the cycle
/// data, extended headers for iclogs over 32 KiB, the record padded to the log stripe unit, CRC-32C), so the image's log
/// is clean: recovery finds the unmount record at the head and has nothing to replay. As at an unmount, the superblock's
/// summary counters are written exact with it (a clean log makes the kernel trust them).
/// </summary>
/// <remarks>
/// Only valid for a file system the kernel has quiesced (frozen): then the metadata the covered records name is on disk
/// already (the cover pushes the AIL after each dummy transaction). Formats: the on-disk structures in the kernel's
/// <c>xfs_log_format.h</c> (<c>xlog_rec_header</c>, 328 bytes; <c>xlog_op_header</c>; <c>xfs_unmount_log_format</c>)
/// and the head search of <c>xfs_log_recover.c</c>; the checksum as <c>xlog_cksum</c> (header with <c>h_crc</c> zero,
/// extended headers, then the packed payload).
/// </remarks>
public static class XfsLog
{
    private const int Bb = 512;
    private const uint HeaderMagic = 0xFEEDBABE;
    private const int HeaderCycleSize = 32 * 1024;
    private const int HeaderStructSize = 328;
    private const int CycleDataOffset = 44;
    private const int CycleDataSlots = HeaderCycleSize / Bb; // 64
    private const byte ClientLog = 0xAA;
    private const byte UnmountTrans = 0x20;
    private const ushort UnmountType = 0x556E;
    private const uint FormatLinuxLittleEndian = 1;
    private const int MaxRecordBlocks = (256 * 1024 / Bb) + 8;
    private const uint AgfMagic = 0x58414746; // "XAGF"
    private const uint AgiMagic = 0x58414749; // "XAGI"
    private const int SuperblockCrcOffset = 224;

    /// <summary>
    /// The unmount record to write for a frozen XFS whose primary superblock is at byte 0 of <paramref name="read"/>'s
    /// address space (<c>read(offset, buffer)</c> fills the buffer from that offset of the file system). Returns the
    /// record and the superblock to write, or why the log is left as it is (<see cref="LogSeal.Writes"/> empty).
    /// </summary>
    public static LogSeal PlanSeal(Action<long, Span<byte>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        byte[] sb = new byte[Bb];
        read(0, sb);
        if (BinaryPrimitives.ReadUInt32BigEndian(sb) != XfsSuperblock.MagicValue)
        {
            return LogSeal.Not("no XFS superblock");
        }

        uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(sb.AsSpan(4));
        uint agBlocks = BinaryPrimitives.ReadUInt32BigEndian(sb.AsSpan(84));
        ulong logStartFsb = BinaryPrimitives.ReadUInt64BigEndian(sb.AsSpan(48));
        uint logBlocks = BinaryPrimitives.ReadUInt32BigEndian(sb.AsSpan(96));
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(sb.AsSpan(100));
        ushort sectorSize = BinaryPrimitives.ReadUInt16BigEndian(sb.AsSpan(102));
        uint agCount = BinaryPrimitives.ReadUInt32BigEndian(sb.AsSpan(88));
        ulong realtimeBlocks = BinaryPrimitives.ReadUInt64BigEndian(sb.AsSpan(16));
        byte agBlockLog = sb[124];
        ushort logSectorSize = BinaryPrimitives.ReadUInt16BigEndian(sb.AsSpan(194));
        uint logStripeUnit = BinaryPrimitives.ReadUInt32BigEndian(sb.AsSpan(196));
        if (blockSize is < 512 or > 65536 || (blockSize & (blockSize - 1)) != 0 || agBlockLog is 0 or > 31 || agBlocks == 0
            || sectorSize is < 512 or > 32768 || (sectorSize & (sectorSize - 1)) != 0 || agCount is 0 or > 1_000_000)
        {
            return LogSeal.Not("the superblock's geometry is invalid");
        }

        if (realtimeBlocks != 0)
        {
            return LogSeal.Not("the file system has a realtime device");
        }

        if (logStartFsb == 0)
        {
            return LogSeal.Not("the log is external (on another device)");
        }

        bool v2 = (version & 0xF) >= 5 || (version & 0x0400) != 0;
        if (!v2)
        {
            return LogSeal.Not("a version 1 log");
        }

        ulong agNumber = logStartFsb >> agBlockLog, agBlock = logStartFsb & ((1UL << agBlockLog) - 1);
        long logStart = checked((long)((agNumber * agBlocks) + agBlock) * blockSize);
        long logBbs = (long)logBlocks * blockSize / Bb;
        if (logBbs < 64 || logStart <= 0)
        {
            return LogSeal.Not("the log's position or size is invalid");
        }

        var log = new LogReader(read, logStart, logBbs);

        // The head: the log is [cycle c0 …][cycle c0-1 …] once the kernel quiesced it (no iclog in flight); the head is the first block of the older cycle.
        uint c0 = log.Cycle(0), last = log.Cycle(logBbs - 1);
        long head;
        uint cycle;
        if (c0 == last)
        {
            (head, cycle) = (0, c0 + 1); // the last record ended at the log's end
        }
        else
        {
            long lo = 0, hi = logBbs - 1; // Cycle(lo) == c0, Cycle(hi) != c0
            while (hi - lo > 1)
            {
                long mid = lo + ((hi - lo) / 2);
                if (log.Cycle(mid) == c0)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }

            (head, cycle) = (hi, c0);
            if (log.Cycle(hi) >= c0)
            {
                return LogSeal.Not("the log's cycle numbers are not in order");
            }
        }

        // The last record: the nearest header before the head whose record ends at the head.
        long window = Math.Min(MaxRecordBlocks, logBbs);
        byte[] tail = log.Blocks(head - window, (int)window);
        RecordHeader? prev = null;
        for (long i = window - 1; i >= 0 && prev is null; i--)
        {
            ReadOnlySpan<byte> block = tail.AsSpan((int)(i * Bb), Bb);
            if (BinaryPrimitives.ReadUInt32BigEndian(block) != HeaderMagic)
            {
                continue;
            }

            var h = RecordHeader.Parse(block, log.Wrap(head - window + i));
            if (log.Wrap(h.Block + h.HeaderBlocks + ((h.Length + Bb - 1) / Bb)) == log.Wrap(head))
            {
                prev = h;
            }
        }

        if (prev is not { } p)
        {
            return LogSeal.Not("no log record ends at the log's head");
        }

        if (p.Format != FormatLinuxLittleEndian)
        {
            return LogSeal.Not("the log was written by a big-endian host");
        }

        if (p.Ops == 1 && log.IsUnmountRecord(p))
        {
            return LogSeal.Not("the log is clean already");
        }

        // The unmount record: an op header and the unmount format, padded like xlog_sync pads a v2 record.
        int headerBlocks = p.Size > HeaderCycleSize && (p.Version & 2) != 0 ? (p.Size + HeaderCycleSize - 1) / HeaderCycleSize : 1;
        int roundoff = Math.Max(Math.Max(Bb, (int)logSectorSize), logStripeUnit > 1 && logStripeUnit <= 256 * 1024 ? (int)logStripeUnit : Bb);
        int total = ((headerBlocks * Bb) + 20 + roundoff - 1) / roundoff * roundoff;
        int dataLength = total - (headerBlocks * Bb);
        if (head + (total / Bb) >= logBbs)
        {
            return LogSeal.Not("the log's head is at its physical end");
        }

        if (log.Cycle(head + (total / Bb)) >= cycle)
        {
            return LogSeal.Not("the block after the record would not end the log");
        }

        byte[] record = new byte[total];
        Span<byte> data = record.AsSpan(headerBlocks * Bb);
        BinaryPrimitives.WriteUInt32BigEndian(data, 0x534D4331); // oh_tid: any transaction id ("SMC1")
        BinaryPrimitives.WriteUInt32BigEndian(data[4..], 8); // oh_len: sizeof(xfs_unmount_log_format)
        data[8] = ClientLog;
        data[9] = UnmountTrans;
        BinaryPrimitives.WriteUInt16LittleEndian(data[12..], UnmountType); // host-endian, and the log's format is little-endian

        Span<byte> h0 = record.AsSpan(0, Bb);
        BinaryPrimitives.WriteUInt32BigEndian(h0, HeaderMagic);
        BinaryPrimitives.WriteUInt32BigEndian(h0[4..], cycle);
        BinaryPrimitives.WriteUInt32BigEndian(h0[8..], p.Version);
        BinaryPrimitives.WriteUInt32BigEndian(h0[12..], (uint)dataLength);
        BinaryPrimitives.WriteUInt64BigEndian(h0[16..], ((ulong)cycle << 32) | (uint)head);
        BinaryPrimitives.WriteUInt64BigEndian(h0[24..], p.Lsn); // the tail: the covered log's last record, as the kernel's empty AIL gives it
        BinaryPrimitives.WriteUInt32BigEndian(h0[36..], (uint)p.Block);
        BinaryPrimitives.WriteUInt32BigEndian(h0[40..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(h0[300..], p.Format);
        p.Uuid.CopyTo(h0[304..320]);
        BinaryPrimitives.WriteUInt32BigEndian(h0[320..], (uint)p.Size);

        // xlog_pack_data: each payload block's first word goes to the cycle data, the cycle takes its place.
        for (int i = 0; i < dataLength / Bb; i++)
        {
            Span<byte> word = data.Slice(i * Bb, 4);
            uint saved = BinaryPrimitives.ReadUInt32BigEndian(word);
            int slot = i % CycleDataSlots, extended = i / CycleDataSlots;
            Span<byte> holder = extended == 0 ? h0[(CycleDataOffset + (slot * 4))..] : record.AsSpan((extended * Bb) + 4 + (slot * 4));
            BinaryPrimitives.WriteUInt32BigEndian(holder, saved);
            BinaryPrimitives.WriteUInt32BigEndian(word, cycle);
        }

        for (int x = 1; x < headerBlocks; x++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(x * Bb), cycle); // xh_cycle
        }

        BinaryPrimitives.WriteUInt32LittleEndian(h0[32..], Checksum(record, headerBlocks, dataLength));

        // A clean log makes the kernel trust the superblock's summary counters, which a freeze leaves "ballpark" (lazy
        // counters, less what is reserved in memory); an unmount writes them exact. So do the same from the AG headers, as
        // xfs_initialize_perag_data sums them: free = freeblks + flcount + btreeblks per AGF, inodes from each AGI.
        byte[] super = new byte[sectorSize];
        read(0, super);
        ulong free = 0, inodes = 0, freeInodes = 0;
        byte[] header = new byte[Bb];
        for (uint ag = 0; ag < agCount; ag++)
        {
            long agStart = (long)ag * agBlocks * blockSize;
            read(agStart + sectorSize, header);
            if (BinaryPrimitives.ReadUInt32BigEndian(header) != AgfMagic || BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8)) != ag)
            {
                return LogSeal.Not($"AG {ag}'s free space header is not valid");
            }

            free += (ulong)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(52)) + BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(48)) + BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(60));
            read(agStart + (2L * sectorSize), header);
            if (BinaryPrimitives.ReadUInt32BigEndian(header) != AgiMagic || BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8)) != ag)
            {
                return LogSeal.Not($"AG {ag}'s inode header is not valid");
            }

            inodes += BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16));
            freeInodes += BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        }

        ulong dataBlocks = BinaryPrimitives.ReadUInt64BigEndian(super.AsSpan(8));
        if (free > dataBlocks || freeInodes > inodes)
        {
            return LogSeal.Not("the AG headers' counts exceed the file system");
        }

        BinaryPrimitives.WriteUInt64BigEndian(super.AsSpan(128), inodes);
        BinaryPrimitives.WriteUInt64BigEndian(super.AsSpan(136), freeInodes);
        BinaryPrimitives.WriteUInt64BigEndian(super.AsSpan(144), free);
        if ((version & 0xF) >= 5)
        {
            super.AsSpan(SuperblockCrcOffset, 4).Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(super.AsSpan(SuperblockCrcOffset), ~Crc32C.Update(0xFFFFFFFF, super));
        }

        return new LogSeal([new LogSealWrite(logStart + (head * Bb), record), new LogSealWrite(0, super)], null);
    }

    /// <summary>xlog_cksum: CRC-32C over the header struct (h_crc zero), the extended headers' cycle data, then the payload.</summary>
    internal static uint Checksum(ReadOnlySpan<byte> record, int headerBlocks, int dataLength)
    {
        byte[] head = record[..HeaderStructSize].ToArray();
        head.AsSpan(32, 4).Clear();
        uint crc = Crc32C.Update(0xFFFFFFFF, head);
        for (int x = 1; x < headerBlocks; x++)
        {
            crc = Crc32C.Update(crc, record.Slice(x * Bb, 256));
        }

        crc = Crc32C.Update(crc, record.Slice(headerBlocks * Bb, dataLength));
        return ~crc;
    }

    private readonly record struct RecordHeader(long Block, uint Cycle, uint Version, int Length, ulong Lsn, uint Ops, uint Format, byte[] Uuid, int Size)
    {
        public int HeaderBlocks => Size > HeaderCycleSize && (Version & 2) != 0 ? (Size + HeaderCycleSize - 1) / HeaderCycleSize : 1;

        public static RecordHeader Parse(ReadOnlySpan<byte> b, long block) => new(
            block,
            BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[12..]), 1 << 20),
            BinaryPrimitives.ReadUInt64BigEndian(b[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[40..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[300..]),
            b.Slice(304, 16).ToArray(),
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[320..]), 1 << 20));
    }

    /// <summary>Reads the log in 512-byte basic blocks, wrapping at its end.</summary>
    private sealed class LogReader(Action<long, Span<byte>> read, long start, long blocks)
    {
        public long Wrap(long block) => ((block % blocks) + blocks) % blocks;

        /// <summary>A block's cycle number: h_cycle in a record header, else the word xlog_pack_data put first.</summary>
        public uint Cycle(long block)
        {
            Span<byte> b = stackalloc byte[Bb];
            read(start + (Wrap(block) * Bb), b);
            return BinaryPrimitives.ReadUInt32BigEndian(b) == HeaderMagic ? BinaryPrimitives.ReadUInt32BigEndian(b[4..]) : BinaryPrimitives.ReadUInt32BigEndian(b);
        }

        /// <summary><paramref name="count"/> blocks from <paramref name="first"/> (wrapped), in at most two reads.</summary>
        public byte[] Blocks(long first, int count)
        {
            byte[] buffer = new byte[count * Bb];
            long at = Wrap(first);
            int before = (int)Math.Min(count, blocks - at);
            read(start + (at * Bb), buffer.AsSpan(0, before * Bb));
            if (before < count)
            {
                read(start, buffer.AsSpan(before * Bb));
            }

            return buffer;
        }

        public bool IsUnmountRecord(RecordHeader h)
        {
            Span<byte> b = stackalloc byte[Bb];
            read(start + (Wrap(h.Block + h.HeaderBlocks) * Bb), b);
            return (b[9] & UnmountTrans) != 0;
        }
    }
}

/// <summary>What seals a frozen XFS's log: the unmount record and the superblock with exact counters, or why the log is left as it is.</summary>
public sealed record LogSeal(IReadOnlyList<LogSealWrite> Writes, string? NotSealed)
{
    internal static LogSeal Not(string why) => new([], why);
}

/// <summary>Bytes to put at <see cref="Offset"/> from the file system's start.</summary>
public sealed record LogSealWrite(long Offset, byte[] Bytes);
