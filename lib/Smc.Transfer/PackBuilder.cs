namespace Smc.Transfer;

/// <summary>
/// Gathers frames into one pack: frames back to back, no pack header, no padding (docs/wire-format.md, "Pack").
/// Not thread-safe.
/// </summary>
public sealed class PackBuilder
{
    private readonly int targetBytes;
    private byte[] buffer = [];

    /// <param name="targetBytes">
    /// The size a pack should not exceed. A frame larger than this is still accepted into an empty pack.
    /// </param>
    public PackBuilder(int targetBytes = 4 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetBytes);
        this.targetBytes = targetBytes;
    }

    /// <summary>Frames in the pack.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes in the pack.</summary>
    public long Length { get; private set; }

    /// <summary>The pack's bytes; valid until the next <see cref="TryAdd"/> or <see cref="Reset"/>.</summary>
    public ReadOnlyMemory<byte> Content => buffer.AsMemory(0, (int)Length);

    /// <summary>
    /// Appends <paramref name="frame"/> and returns its <paramref name="position"/> in the pack, unless the pack is not
    /// empty and the frame would take it past the target size; then returns false and changes nothing.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> frame, out long position)
    {
        if (frame.IsEmpty)
        {
            throw new ArgumentException("A frame is never empty.", nameof(frame));
        }

        if (Count > 0 && Length + frame.Length > targetBytes)
        {
            position = -1;
            return false;
        }

        int start = (int)Length;
        int end = checked(start + frame.Length);
        if (end > buffer.Length)
        {
            int capacity = Math.Max(end, Math.Max(targetBytes, buffer.Length * 2));
            Array.Resize(ref buffer, capacity);
        }

        frame.CopyTo(buffer.AsSpan(start));
        position = start;
        Length = end;
        Count++;
        return true;
    }

    /// <summary>Empties the pack for reuse (keeps its buffer).</summary>
    public void Reset()
    {
        Count = 0;
        Length = 0;
    }
}
