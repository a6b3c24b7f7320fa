using System.Text.Json;
using System.Text.Json.Serialization;

namespace Smc.Api;

/// <summary>The API's JSON: camelCase, enums as strings, unknown fields refused.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
        MaxDepth = 32,
    };

    /// <summary>
    /// How request bodies are read: as <see cref="Options"/>, and a JSON null where the type says a value (a list, an
    /// object, a string that isn't optional) is refused as malformed instead of reaching the code as a null.
    /// </summary>
    public static readonly JsonSerializerOptions ReadOptions = new(Options) { RespectNullableAnnotations = true };
}
