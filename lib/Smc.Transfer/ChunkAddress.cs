namespace Smc.Transfer;

/// <summary>
/// Where a chunk belongs: job, round, source disk, byte offset on that disk and plaintext length. A frame is sealed
/// for exactly one address and opens only for it (docs/wire-format.md, "Associated data").
/// </summary>
public readonly record struct ChunkAddress(string JobId, int Round, int Disk, long Offset, int Length);
