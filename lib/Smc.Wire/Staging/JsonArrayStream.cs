using System.Text.Json;

namespace Smc.Wire.Staging;

/// <summary>
/// JSON documents whose bulk is one top-level array (a manifest's chunks, a fingerprints document, an image's disk map),
/// written and read one array item at a time, so neither side holds the array: the rest of the document (its head) is
/// small and handled whole. <see cref="StagingJson"/> uses it for the staging documents; the image store's disk maps too.
/// </summary>
public static class JsonArrayStream
{
    /// <summary>The longest single value (an array item, a head property) <see cref="ReadAsync"/> reads.</summary>
    public const int MaxValueBytes = 16 << 20;

    /// <summary>
    /// Writes <paramref name="documentJson"/> (a serialized document whose top-level <paramref name="arrayName"/> array is
    /// empty) with that array filled with <paramref name="items"/> as they come, each serialized with <paramref name="options"/>.
    /// </summary>
    public static void Write<T>(Stream output, byte[] documentJson, string arrayName, IEnumerable<T> items, JsonSerializerOptions options)
    {
        (int open, int close) = ArrayBounds(documentJson, arrayName);
        output.Write(documentJson, 0, open + 1);

        // One writer for every item (no array per item); reset after each, so the separators are ours to write.
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true });
        bool first = true;
        foreach (T item in items)
        {
            if (!first)
            {
                output.WriteByte((byte)',');
            }

            JsonSerializer.Serialize(writer, item, options);
            writer.Flush();
            writer.Reset();
            first = false;
        }

        output.Write(documentJson, close, documentJson.Length - close);
    }

    /// <summary>
    /// Reads a document from a stream, handing each item of its top-level <paramref name="arrayName"/> array to
    /// <paramref name="onItem"/> as it is read; returns the rest of the document as UTF-8 JSON. A top-level
    /// <c>formatVersion</c> outside 1 to <paramref name="maxFormatVersion"/> is refused as soon as it is read (0: not checked).
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not such a document, or a value is longer than <see cref="MaxValueBytes"/>.</exception>
    public static async Task<byte[]> ReadAsync<T>(Stream input, string arrayName, JsonSerializerOptions options, Action<T> onItem, string documentName, int maxFormatVersion = 0, CancellationToken cancellationToken = default)
    {
        using var parser = new ChunkedParser<T>(documentName, arrayName, options, maxFormatVersion, onItem);
        byte[] buffer = new byte[1 << 16];
        int held = 0;
        while (true)
        {
            if (held == buffer.Length)
            {
                if (buffer.Length >= MaxValueBytes)
                {
                    throw new InvalidDataException($"The {documentName} has a value longer than {MaxValueBytes} bytes.");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            int n = await input.ReadAsync(buffer.AsMemory(held), cancellationToken);
            held += n;
            int consumed = parser.Feed(buffer.AsSpan(0, held), isFinalBlock: n == 0);
            buffer.AsSpan(consumed, held - consumed).CopyTo(buffer);
            held -= consumed;
            if (n == 0)
            {
                return parser.Head().ToArray();
            }
        }
    }

    /// <summary>Where the top-level array's '[' and ']' are in a serialized document.</summary>
    private static (int Open, int Close) ArrayBounds(byte[] json, string arrayName)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(arrayName))
            {
                reader.Read();
                int open = (int)reader.TokenStartIndex;
                reader.Skip();
                return (open, (int)reader.TokenStartIndex);
            }
        }

        throw new InvalidOperationException($"A serialized document without a top-level '{arrayName}' array.");
    }
}
