namespace Smc.Transfer;

/// <summary>Finds frames in a pack by the position and stored length the manifest gives.</summary>
public static class PackReader
{
    /// <summary>The frame at <paramref name="position"/>, <paramref name="storedLength"/> bytes long.</summary>
    /// <exception cref="ChunkIntegrityException">Code <c>ChunkCorrupt</c>: the range is not inside the pack or too short for a frame.</exception>
    public static ReadOnlySpan<byte> Frame(ReadOnlySpan<byte> pack, long position, int storedLength)
    {
        if (position < 0 || storedLength < ChunkCodec.HeaderSize || position > pack.Length - (long)storedLength)
        {
            throw new ChunkIntegrityException(
                ChunkErrorCodes.ChunkCorrupt,
                $"A frame of {storedLength} bytes at {position} is not inside a pack of {pack.Length} bytes " +
                $"(a frame is at least {ChunkCodec.HeaderSize} bytes).");
        }

        return pack.Slice((int)position, storedLength);
    }
}
