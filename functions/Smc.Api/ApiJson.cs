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
}
