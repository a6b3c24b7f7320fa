using System.Text.Json;
using System.Text.Json.Serialization;
using Smc.Wire.Staging;

namespace Smc.Core.Images;

/// <summary>
/// One destination disk of a local image, as references to the sealed chunks it is made of: the image keeps the
/// agent's packs (compressed and encrypted, server-side copies out of staging) instead of a plaintext copy of the disk,
/// and a disk is decoded when it is read. An incremental round's map takes the chunks it did not send from its base
/// image's map, so rounds share the packs they have in common. Stored as <c>{imageId}/disk{index}.map.json</c>.
/// </summary>
public sealed class ImageDiskMap
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public required string JobId { get; init; }

    /// <summary>The disk index (0 = system disk); also the source disk index each chunk was sealed for.</summary>
    public int Disk { get; init; }

    public long SizeBytes { get; init; }

    /// <summary>Per round whose chunks the map uses: that round's data key, sealed with the control plane's master key.</summary>
    public Dictionary<int, string> Keys { get; init; } = [];

    /// <summary>Sorted by destination offset, not overlapping. Bytes no extent covers read as zero.</summary>
    public List<ImageExtent> Extents { get; init; } = [];

    /// <summary>Partition-table sectors written over the extents (MBR, GPT headers and entry arrays), by destination offset.</summary>
    public List<ImageOverlay> Overlays { get; init; } = [];

    /// <summary>The master-key context of a round's data key in a map: binds it to its job and round.</summary>
    public static byte[] KeyContext(string jobId, int round) => System.Text.Encoding.UTF8.GetBytes($"image-data-key/{jobId}/{round}");

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static ImageDiskMap Deserialize(byte[] bytes)
    {
        ImageDiskMap map = JsonSerializer.Deserialize<ImageDiskMap>(bytes, Json) ?? throw new InvalidDataException("An empty image map.");
        return map.FormatVersion == CurrentFormatVersion ? map : throw new InvalidDataException($"Image map format version {map.FormatVersion} is not known here.");
    }

    /// <summary>
    /// Writes the map with its extents taken from <paramref name="extents"/> as they come (by destination), so a disk of
    /// millions of chunks is never held whole; <paramref name="head"/>'s own extent list must be empty.
    /// </summary>
    public static void Write(Stream output, ImageDiskMap head, IEnumerable<ImageExtent> extents)
    {
        if (head.Extents.Count != 0)
        {
            throw new ArgumentException("The head of a streamed map has no extents of its own.", nameof(head));
        }

        JsonArrayStream.Write(output, head.Serialize(), ExtentsName, extents, Json);
    }

    /// <summary>Reads a map, handing each extent to <paramref name="onExtent"/> as it is read; returns the map without them.</summary>
    /// <exception cref="InvalidDataException">Not a map this code knows.</exception>
    public static async Task<ImageDiskMap> ReadAsync(Stream input, Action<ImageExtent> onExtent, CancellationToken cancellationToken)
    {
        byte[] head = await JsonArrayStream.ReadAsync(input, ExtentsName, Json, onExtent, "image map", CurrentFormatVersion, cancellationToken);
        try
        {
            return Deserialize(head);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The image map is not valid JSON of its schema: {e.Message}", e);
        }
    }

    public static string DocumentName(int disk) => $"disk{disk}.map.json";

    private const string ExtentsName = "extents";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>
/// One chunk of a destination disk: <see cref="Length"/> bytes at <see cref="Destination"/>, sealed by round
/// <see cref="Round"/> for source offset <see cref="Source"/> and stored in that round's pack <see cref="Pack"/> at
/// <see cref="Position"/> (<see cref="StoredLength"/> bytes). Short names: a large disk has a hundred thousand.
/// </summary>
public sealed record ImageExtent(
    [property: JsonPropertyName("d")] long Destination,
    [property: JsonPropertyName("r")] int Round,
    [property: JsonPropertyName("o")] long Source,
    [property: JsonPropertyName("l")] int Length,
    [property: JsonPropertyName("p")] string Pack,
    [property: JsonPropertyName("q")] long Position,
    [property: JsonPropertyName("s")] int StoredLength)
{
    [JsonIgnore]
    public long End => Destination + Length;
}

/// <summary>Bytes written over the extents at a destination offset.</summary>
public sealed record ImageOverlay(long Offset, byte[] Bytes);
