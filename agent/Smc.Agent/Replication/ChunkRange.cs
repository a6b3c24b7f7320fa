namespace Smc.Agent.Replication;

/// <summary>A piece of a source disk to read as one chunk: inside one 1 MiB grid cell and one region.</summary>
internal readonly record struct ChunkRange(int Disk, long Offset, int Length);
