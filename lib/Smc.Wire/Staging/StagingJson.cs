using System.Text.Json;

namespace Smc.Wire.Staging;

/// <summary>
/// The JSON encoding of the staging documents (<see cref="RoundManifest"/>, <see cref="CommitMarker"/>): UTF-8,
/// System.Text.Json web defaults (camelCase), not indented.
/// </summary>
public static class StagingJson
{
    internal const string FormatVersionName = "formatVersion";
    internal const string ChunksName = "chunks";

    /// <summary>The serializer options of the staging documents; read-only.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The UTF-8 JSON bytes of <paramref name="value"/>; these exact bytes are uploaded and hashed.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>
    /// Reads a staging document. For a document that carries a <c>formatVersion</c> (<see cref="RoundManifest"/>,
    /// <see cref="CommitMarker"/>) the version is checked before anything else is read: it must be present, a
    /// number, and between 1 and the type's current version.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not such a document, or its format version is not supported.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
    {
        int maxVersion = MaxFormatVersion(typeof(T));
        string name = typeof(T).Name;
        if (maxVersion > 0)
        {
            CheckFormatVersion(ReadFormatVersion(utf8Json, name) ?? throw new InvalidDataException($"The {name} has no '{FormatVersionName}'."), name, maxVersion);
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(utf8Json, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The {name} is not valid JSON of its schema: {ex.Message}", ex);
        }

        return value ?? throw new InvalidDataException($"The {name} is JSON null.");
    }

    /// <summary>
    /// Writes a manifest to <paramref name="output"/> with the chunks taken from <paramref name="chunks"/> as they come
    /// (<paramref name="head"/>'s own chunk list is ignored), so a writer never holds a big round's chunks in memory.
    /// The bytes are those <see cref="Serialize{T}"/> writes for the same manifest with those chunks.
    /// </summary>
    public static void WriteManifest(Stream output, RoundManifest head, IEnumerable<ManifestChunk> chunks) =>
        WriteChunked(output, head, chunks);

    /// <summary>
    /// Writes a document with a <c>chunks</c> array (a manifest, a round's fingerprints) with the chunks taken from
    /// <paramref name="chunks"/> as they come; the bytes are those <see cref="Serialize{T}"/> writes for the same document.
    /// </summary>
    public static void WriteChunked<THead, TChunk>(Stream output, THead head, IEnumerable<TChunk> chunks)
        where THead : IChunkedDocument<TChunk>
    {
        // The head is serialized as usual with no chunks, and the chunks are written between its "chunks" brackets: the
        // serializer's own bytes for everything else (a JsonNode round trip would escape differently, e.g. '+' in dates).
        List<TChunk> own = head.Chunks;
        head.Chunks = [];
        byte[] json;
        try
        {
            json = Serialize(head);
        }
        finally
        {
            head.Chunks = own;
        }

        JsonArrayStream.Write(output, json, ChunksName, chunks, Options);
    }

    /// <summary>
    /// Reads a document with a <c>chunks</c> array from a stream without holding its chunks: each is handed to
    /// <paramref name="onChunk"/> as it is read, and the document is returned with an empty chunk list. Memory is one
    /// buffer (a value longer than <see cref="JsonArrayStream.MaxValueBytes"/> is refused) and the document's head, whatever the
    /// number of chunks. The format version is checked as <see cref="Deserialize{T}"/> does, as soon as it is read.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not such a document, or its format version is not supported.</exception>
    public static async Task<THead> ReadChunkedAsync<THead, TChunk>(Stream input, Action<TChunk> onChunk, CancellationToken cancellationToken = default)
        where THead : class, IChunkedDocument<TChunk>
    {
        string name = typeof(THead).Name;
        return Deserialize<THead>(await JsonArrayStream.ReadAsync(input, ChunksName, Options, onChunk, name, MaxFormatVersion(typeof(THead)), cancellationToken));
    }

    /// <summary>Refuses a format version this reader does not support.</summary>
    internal static void CheckFormatVersion(int version, string name, int maxVersion)
    {
        if (version < 1 || version > maxVersion)
        {
            throw new InvalidDataException(
                $"The {name} has {FormatVersionName} {version}; this reader supports 1 to {maxVersion}. " +
                "A newer agent or control plane wrote it: upgrade the reader.");
        }
    }

    internal static int MaxFormatVersion(Type type)
    {
        if (type == typeof(RoundManifest))
        {
            return RoundManifest.CurrentFormatVersion;
        }

        if (type == typeof(CommitMarker))
        {
            return CommitMarker.CurrentFormatVersion;
        }

        return 0;
    }

    /// <summary>The top-level <c>formatVersion</c> number, or null when there is none.</summary>
    private static int? ReadFormatVersion(ReadOnlySpan<byte> utf8Json, string name)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"The {name} is not a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isVersion = reader.ValueTextEquals(FormatVersionName);
                reader.Read();
                if (!isVersion)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int version))
                {
                    throw new InvalidDataException($"The {name}'s '{FormatVersionName}' is not an integer.");
                }

                return version;
            }

            return null;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The {name} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = false };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
