using System.Text.Json;

namespace Smc.Wire.Staging;

/// <summary>
/// The JSON encoding of the staging documents (<see cref="RoundManifest"/>, <see cref="CommitMarker"/>): UTF-8,
/// System.Text.Json web defaults (camelCase), not indented.
/// </summary>
public static class StagingJson
{
    private const string FormatVersionName = "formatVersion";

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
            int? version = ReadFormatVersion(utf8Json, name);
            if (version is null)
            {
                throw new InvalidDataException($"The {name} has no '{FormatVersionName}'.");
            }

            if (version < 1 || version > maxVersion)
            {
                throw new InvalidDataException(
                    $"The {name} has {FormatVersionName} {version}; this reader supports 1 to {maxVersion}. " +
                    "A newer agent or control plane wrote it: upgrade the reader.");
            }
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

    private static int MaxFormatVersion(Type type)
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
