using System.Buffers.Binary;
using System.Text;

namespace Smc.Disks;

/// <summary>The Linux swap header: "SWAPSPACE2" in the last 10 bytes of the first page, version 1 fields at byte 1024.</summary>
internal sealed class SwapHeader
{
    public const int SignatureSize = 10;

    /// <summary>Page sizes tried, 4 KiB (x86-64) first.</summary>
    public static readonly int[] PageSizes = [4096, 8192, 16384, 65536];

    private const int VersionOffset = 1024;
    private const int UuidOffset = 1036;
    private const int LabelOffset = 1052;
    private const int LabelSize = 16;

    private static readonly byte[] SignatureV2 = Encoding.ASCII.GetBytes("SWAPSPACE2");
    private static readonly byte[] SignatureV1 = Encoding.ASCII.GetBytes("SWAP-SPACE");

    /// <summary>The page size whose last 10 bytes hold the signature: the header is the whole first page.</summary>
    public int PageSize { get; init; } = PageSizes[0];

    public string? Uuid { get; init; }

    public string? Label { get; init; }

    /// <summary>Looks for the signature at each page size; null when absent.</summary>
    public static SwapHeader? ReadFrom(ReadOnlySpan<byte> head)
    {
        foreach (int pageSize in PageSizes)
        {
            if (head.Length < pageSize)
            {
                break;
            }

            ReadOnlySpan<byte> signature = head.Slice(pageSize - SignatureSize, SignatureSize);
            if (signature.SequenceEqual(SignatureV1))
            {
                return new SwapHeader { PageSize = pageSize }; // Old format: no UUID, no label.
            }

            if (signature.SequenceEqual(SignatureV2))
            {
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(head[VersionOffset..]);
                if (version != 1 && BinaryPrimitives.ReverseEndianness(version) != 1)
                {
                    throw new DiskFormatException(DiskErrorCodes.CorruptFileSystem, $"swap header: version {version} is unknown.");
                }

                return new SwapHeader
                {
                    PageSize = pageSize,
                    Uuid = IdFormat.Uuid(head.Slice(UuidOffset, 16)),
                    Label = IdFormat.CString(head.Slice(LabelOffset, LabelSize)),
                };
            }
        }

        return null;
    }
}
