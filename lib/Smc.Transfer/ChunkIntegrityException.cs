namespace Smc.Transfer;

/// <summary>
/// A chunk frame, pack or wrapped key failed a check. <see cref="Code"/> is one of the <see cref="ChunkErrorCodes"/>.
/// When <see cref="ChunkCodec.Open"/> throws it, the caller's plaintext buffer has been zeroed.
/// </summary>
public sealed class ChunkIntegrityException : Exception
{
    public ChunkIntegrityException(string code)
        : this(code, code)
    {
    }

    public ChunkIntegrityException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public ChunkIntegrityException(string code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>A stable machine-readable code, e.g. <c>ChunkTampered</c>.</summary>
    public string Code { get; }
}
