namespace Smc.Transfer;

/// <summary>The <see cref="ChunkIntegrityException.Code"/> values.</summary>
public static class ChunkErrorCodes
{
    /// <summary>The frame is intact but belongs elsewhere: its disk, round, offset or length is not the expected one.</summary>
    public const string ChunkMismatch = "ChunkMismatch";

    /// <summary>Authentication failed: the frame was altered, belongs to another job, or the data key is wrong.</summary>
    public const string ChunkTampered = "ChunkTampered";

    /// <summary>The frame is truncated or malformed, or its payload does not decompress to the stated length.</summary>
    public const string ChunkCorrupt = "ChunkCorrupt";

    /// <summary>The frame uses a frame version, compression or cipher this reader does not know.</summary>
    public const string ChunkUnsupported = "ChunkUnsupported";

    /// <summary>The wrapped data key could not be unwrapped with the given private key.</summary>
    public const string KeyUnwrapFailed = "KeyUnwrapFailed";
}
