using System.Buffers;
using System.Text.Json;

namespace Smc.Wire.Staging;

/// <summary>
/// The push parser behind <see cref="JsonArrayStream.ReadAsync"/>: fed the bytes read so far, it hands each complete
/// element of one top-level array to a callback, copies every other top-level property into
/// a small head document, and says how many bytes it consumed (the rest, an incomplete value, is fed again with more).
/// </summary>
internal sealed class ChunkedParser<TChunk>(string name, string arrayName, JsonSerializerOptions options, int maxFormatVersion, Action<TChunk> onChunk) : IDisposable
{
    private readonly ArrayBufferWriter<byte> _head = new();
    private readonly Action<TChunk> _onChunk = onChunk;
    private JsonReaderState _state;
    private Utf8JsonWriter? _writer;
    private bool _inChunks, _done;

    /// <summary>Parses what <paramref name="data"/> holds completely; returns the bytes consumed.</summary>
    public int Feed(ReadOnlySpan<byte> data, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock, _state);
        try
        {
            while (true)
            {
                Utf8JsonReader before = reader;
                if (!Step(ref reader))
                {
                    reader = before;
                    break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The {name} is not valid JSON of its schema: {e.Message}", e);
        }

        if (isFinalBlock && !_done)
        {
            throw new InvalidDataException($"The {name} ends before its closing brace.");
        }

        _state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    /// <summary>The document without its chunks, as UTF-8 JSON (after the last <see cref="Feed"/>).</summary>
    public ReadOnlySpan<byte> Head() => _head.WrittenSpan;

    /// <summary>One token or one whole value; false when the data ends first (nothing consumed then).</summary>
    private bool Step(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            return false;
        }

        if (_writer is null)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"The {name} is not a JSON object.");
            }

            _writer = new Utf8JsonWriter(_head);
            _writer.WriteStartObject();
            return true;
        }

        if (_inChunks)
        {
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                _inChunks = false;
                return true;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"The {name}'s {arrayName} holds something other than objects.");
            }

            Utf8JsonReader probe = reader;
            if (!probe.TrySkip())
            {
                return false;
            }

            TChunk? chunk = JsonSerializer.Deserialize<TChunk>(ref reader, options);
            _onChunk(chunk ?? throw new InvalidDataException($"The {name} lists a null chunk."));
            return true;
        }

        if (reader.TokenType == JsonTokenType.EndObject)
        {
            _writer.WriteEndObject();
            _writer.Flush();
            _done = true;
            return true;
        }

        // A top-level property: the chunks array is entered; any other is copied whole into the head.
        string property = reader.GetString()!;
        if (!reader.Read())
        {
            return false;
        }

        if (property == arrayName)
        {
            _inChunks = reader.TokenType == JsonTokenType.StartArray
                ? true
                : throw new InvalidDataException($"The {name}'s {arrayName} is not an array.");
            return true;
        }

        Utf8JsonReader value = reader;
        if (!value.TrySkip())
        {
            return false;
        }

        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        if (property == StagingJson.FormatVersionName && maxFormatVersion > 0)
        {
            CheckVersion(document.RootElement);
        }

        _writer.WritePropertyName(property);
        document.RootElement.WriteTo(_writer);
        return true;
    }

    /// <summary>An unsupported version is refused before any chunk after it is handed on.</summary>
    private void CheckVersion(JsonElement version)
    {
        if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v))
        {
            throw new InvalidDataException($"The {name}'s '{StagingJson.FormatVersionName}' is not an integer.");
        }

        StagingJson.CheckFormatVersion(v, name, maxFormatVersion);
    }

    public void Dispose() => _writer?.Dispose();
}
