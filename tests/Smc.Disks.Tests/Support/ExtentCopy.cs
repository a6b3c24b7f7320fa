namespace Smc.Disks.Tests.Support;

/// <summary>Builds the copy an allocation-aware migration would make: only the used extents of a partition, everything else zero (or a fill byte).</summary>
internal static class ExtentCopy
{
    /// <summary>Most fill bytes written at the start of each gap (the rest of a long gap stays a hole, i.e. zero).</summary>
    private const long MaxFillPerGap = 1024 * 1024;

    /// <summary>
    /// Writes <paramref name="destination"/>, <paramref name="size"/> bytes long, holding the bytes of <paramref name="extents"/>
    /// (relative to <paramref name="offset"/> in <paramref name="source"/>); every other byte is zero, except that with a
    /// non-zero <paramref name="fill"/> the first MiB of each gap is filled with it (garbage right next to every used extent).
    /// </summary>
    public static void CopyUsed(string source, long offset, long size, IReadOnlyList<ByteExtent> extents, string destination, byte fill = 0)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write);
        output.SetLength(size);
        var buffer = new byte[1024 * 1024];
        long position = 0;
        foreach (ByteExtent extent in extents)
        {
            Fill(output, position, extent.Start - position, fill, buffer);
            input.Position = offset + extent.Start;
            output.Position = extent.Start;
            for (long done = 0; done < extent.Length;)
            {
                int n = (int)Math.Min(buffer.Length, extent.Length - done);
                input.ReadExactly(buffer, 0, n);
                output.Write(buffer, 0, n);
                done += n;
            }

            position = extent.End;
        }

        Fill(output, position, size - position, fill, buffer);
    }

    /// <summary>Copies <paramref name="count"/> bytes from one file offset to another (what <c>dd</c> with byte offsets does).</summary>
    public static void Dd(string source, long sourceOffset, string destination, long destinationOffset, long count) =>
        Tool.Run(
            "dd",
            $"if={source}",
            $"of={destination}",
            "bs=1M",
            $"skip={sourceOffset}",
            $"seek={destinationOffset}",
            $"count={count}",
            "iflag=skip_bytes,count_bytes",
            "oflag=seek_bytes",
            "conv=notrunc,sparse",
            "status=none");

    private static void Fill(FileStream output, long start, long count, byte fill, byte[] buffer)
    {
        if (fill == 0 || count <= 0)
        {
            return;
        }

        buffer.AsSpan().Fill(fill);
        count = Math.Min(count, MaxFillPerGap);
        output.Position = start;
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(buffer.Length, count - done);
            output.Write(buffer, 0, n);
            done += n;
        }
    }
}
