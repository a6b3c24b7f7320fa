using System.Text.Json;
using Smc.Wire.Staging;

namespace Smc.Agent.Replication;

/// <summary>
/// Reads a <see cref="RoundFingerprints"/> document from a file without holding its chunk list: the head (job, round,
/// chunk size, disk sizes) in one pass, then each chunk handed over as it is read. The document lists every chunk of a
/// round — a million for a full 1 TiB disk — which the agent's memory budget can't take as objects.
/// </summary>
/// <remarks>
/// Written by hand on <see cref="Utf8JsonReader"/> with a refilled buffer: System.Text.Json streams only a top-level
/// array (<c>DeserializeAsyncEnumerable</c>), and this array is a property of an object. Each chunk object is
/// deserialized by the serializer itself, so the entry's schema is the wire type's.
/// </remarks>
internal static class FingerprintsDocument
{
    private const string ChunksName = "chunks";

    public sealed class Head
    {
        public string? JobId { get; set; }

        public int? Round { get; set; }

        public int ChunkSize { get; set; }

        public List<long>? DiskSizes { get; set; }

        /// <summary>Every field read (the control plane writes them before the chunks, so the head is read without them).</summary>
        internal bool IsComplete => JobId is not null && Round is not null && DiskSizes is not null && ChunkSize > 0;
    }

    /// <summary>The document's fields other than its chunks.</summary>
    /// <exception cref="InvalidDataException">Not such a document, or cut short.</exception>
    public static Head ReadHead(string path, int bufferBytes = 1 << 16)
    {
        var head = new Head();
        Scan(path, head, null, bufferBytes);
        return head.IsComplete ? head : throw new InvalidDataException("the fingerprints document lacks one of jobId, round, chunkSize, diskSizes");
    }

    /// <summary>Hands every chunk of the document to <paramref name="chunk"/>, in document order.</summary>
    /// <exception cref="InvalidDataException">Not such a document, or cut short.</exception>
    public static void ReadChunks(string path, Action<FingerprintEntry> chunk, int bufferBytes = 1 << 16) =>
        Scan(path, new Head(), chunk, bufferBytes);

    private static void Scan(string path, Head head, Action<FingerprintEntry>? onChunk, int bufferBytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        byte[] buffer = new byte[Math.Max(bufferBytes, 16)];
        int length = 0;
        bool final = false, inChunks = false, done = false;
        string? property = null;
        var state = new JsonReaderState();
        try
        {
            while (!done)
            {
                if (!final)
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2); // one token or one value bigger than the buffer
                    }

                    int n = file.Read(buffer, length, buffer.Length - length);
                    length += n;
                    final = n == 0;
                }

                var reader = new Utf8JsonReader(buffer.AsSpan(0, length), final, state);
                while (true)
                {
                    Utf8JsonReader checkpoint = reader;
                    if (!reader.Read())
                    {
                        if (final)
                        {
                            throw new InvalidDataException("the fingerprints document is cut short");
                        }

                        break;
                    }

                    if ((reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject) || (onChunk is null && head.IsComplete))
                    {
                        done = true;
                        break;
                    }

                    if (reader.CurrentDepth == 0 && reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new InvalidDataException("the fingerprints document is not a JSON object");
                    }

                    if (reader.CurrentDepth == 0)
                    {
                        continue; // the document's own '{': step into it (skipping it whole would need all of it in the buffer)
                    }

                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        property = reader.GetString();
                        continue;
                    }

                    if (inChunks && reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.EndArray)
                    {
                        inChunks = false;
                        continue;
                    }

                    if (reader.CurrentDepth == 1 && property == ChunksName && reader.TokenType == JsonTokenType.StartArray)
                    {
                        inChunks = true;
                        continue;
                    }

                    // A whole value from here on: a chunk (depth 2 in the array) or a head field (depth 1).
                    Utf8JsonReader probe = reader;
                    if (!probe.TrySkip())
                    {
                        reader = checkpoint; // read it again once the buffer holds all of it
                        break;
                    }

                    if (inChunks && onChunk is null)
                    {
                        _ = reader.TrySkip(); // whole: the probe skipped it
                    }
                    else if (inChunks)
                    {
                        FingerprintEntry entry = JsonSerializer.Deserialize<FingerprintEntry>(ref reader, AgentJson.Options)
                            ?? throw new InvalidDataException("a null chunk in the fingerprints document");
                        onChunk!(entry);
                    }
                    else if (reader.CurrentDepth == 1)
                    {
                        ReadHeadField(ref reader, property, head);
                    }
                }

                state = reader.CurrentState;
                int consumed = (int)reader.BytesConsumed;
                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the fingerprints document is not valid JSON of its schema: {e.Message}", e);
        }
    }

    private static void ReadHeadField(ref Utf8JsonReader reader, string? property, Head head)
    {
        switch (property)
        {
            case "jobId":
                head.JobId = reader.GetString();
                break;
            case "round":
                head.Round = reader.GetInt32();
                break;
            case "chunkSize":
                head.ChunkSize = reader.GetInt32();
                break;
            case "diskSizes":
                head.DiskSizes = JsonSerializer.Deserialize<List<long>>(ref reader, AgentJson.Options);
                break;
            default:
                _ = reader.TrySkip(); // whole: the probe skipped it
                break;
        }
    }
}
