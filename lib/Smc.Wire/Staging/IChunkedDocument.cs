namespace Smc.Wire.Staging;

/// <summary>
/// A staging document whose bulk is one top-level <c>chunks</c> array (a manifest, a round's fingerprints): written and
/// read a chunk at a time by <see cref="StagingJson.WriteChunked{THead, TChunk}"/> and
/// <see cref="StagingJson.ReadChunkedAsync{THead, TChunk}"/>, so a round of millions of chunks is never held whole.
/// </summary>
public interface IChunkedDocument<TChunk>
{
    List<TChunk> Chunks { get; set; }
}
