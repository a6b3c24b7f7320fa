using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Smc.Transfer;
using Smc.Wire.Staging;

namespace Smc.Core.Services;

/// <summary>A chunk's 32-byte keyed fingerprint, inline in its <see cref="ChunkRecord"/>.</summary>
[InlineArray(ChunkFingerprint.Length)]
internal struct Fingerprint32
{
    private byte _element0;
}

/// <summary>
/// One chunk of a round as the control plane keeps it while the round is assembled: a fixed 72-byte record, so a round
/// of millions of chunks lies in a local file (<see cref="RecordFile{T}"/>) instead of the heap (issue 20: a ManifestChunk
/// with its strings takes ~300 bytes of heap, and the JSON it came from ~200 more).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct ChunkRecord
{
    public const int Size = 72;
    private const int SentFlag = 1;
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public long Offset;
    public long Position;

    /// <summary>The pack id's 16 hex digits as a number (<see cref="PackId"/>); meaningless when not <see cref="Sent"/>.</summary>
    public ulong Pack;
    public int Disk;
    public int Length;
    public int StoredLength;
    public int Flags;
    public Fingerprint32 Fingerprint;

    /// <summary>The chunk was sent this round (it has a pack); else it is unchanged since the base round.</summary>
    public readonly bool Sent => (Flags & SentFlag) != 0;

    public readonly string PackId => PackIds.Format(Pack);

    public readonly string FingerprintHex
    {
        get
        {
            Fingerprint32 copy = Fingerprint;
            return Convert.ToHexStringLower(copy);
        }
    }

    /// <summary>The same length and fingerprint: the same content (under one fingerprint key).</summary>
    public static bool SameContent(in ChunkRecord a, in ChunkRecord b) =>
        a.Length == b.Length && ((ReadOnlySpan<byte>)a.Fingerprint).SequenceEqual(b.Fingerprint);

    /// <summary>Whether <paramref name="fingerprint"/> is this chunk's.</summary>
    public readonly bool HasFingerprint(ReadOnlySpan<byte> fingerprint) => ((ReadOnlySpan<byte>)Fingerprint).SequenceEqual(fingerprint);

    /// <summary>Order by disk, then source offset.</summary>
    public static int Compare(ChunkRecord a, ChunkRecord b) => a.Disk != b.Disk ? a.Disk.CompareTo(b.Disk) : a.Offset.CompareTo(b.Offset);

    /// <summary>The record of a manifest chunk; false when its pack id or fingerprint is not what the format allows.</summary>
    public static bool TryFrom(ManifestChunk chunk, out ChunkRecord record)
    {
        record = new ChunkRecord
        {
            Disk = chunk.Disk,
            Offset = chunk.Offset,
            Length = chunk.Length,
            Position = chunk.Position,
            StoredLength = chunk.StoredLength,
        };
        if (chunk.Pack is not null)
        {
            if (PackIds.Parse(chunk.Pack) is not ulong pack)
            {
                return false;
            }

            record.Pack = pack;
            record.Flags = SentFlag;
        }

        return TryParseFingerprint(chunk.Fingerprint, ref record.Fingerprint);
    }

    /// <summary>The record of a base round's fingerprint entry (no pack); false when its fingerprint is malformed.</summary>
    public static bool TryFrom(FingerprintEntry entry, out ChunkRecord record)
    {
        record = new ChunkRecord { Disk = entry.Disk, Offset = entry.Offset, Length = entry.Length };
        return TryParseFingerprint(entry.Fingerprint, ref record.Fingerprint);
    }

    /// <summary>64 lowercase hex digits, as manifests carry a fingerprint.</summary>
    private static bool TryParseFingerprint(string? hex, ref Fingerprint32 into) =>
        hex is { Length: ChunkFingerprint.Length * 2 }
        && hex.AsSpan().IndexOfAnyExcept(LowerHex) < 0
        && Convert.FromHexString(hex, into, out _, out int written) == System.Buffers.OperationStatus.Done
        && written == ChunkFingerprint.Length;
}

/// <summary>A pack id (16 lowercase hex digits, <see cref="StagingNames.IsPackId"/>) as the number the records keep.</summary>
internal static class PackIds
{
    public static ulong? Parse(string? packId) =>
        StagingNames.IsPackId(packId) ? ulong.Parse(packId!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : null;

    public static string Format(ulong pack) => pack.ToString("x16", CultureInfo.InvariantCulture);
}
