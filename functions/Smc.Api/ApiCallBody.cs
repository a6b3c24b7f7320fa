using System.Text.Json;
using Smc.Core.Errors;

namespace Smc.Api;

/// <summary>Reads JSON bodies with the API's rules: size-limited, unknown fields refused, errors as 400 problem codes.</summary>
public static class ApiCallBody
{
    public const int MaxBodyBytes = 1 << 20;

    public static async Task<T> ReadJsonAsync<T>(this ApiCall call)
        where T : class
    {
        byte[] body = await ReadBytesAsync(call);
        if (body.Length == 0)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, "The request needs a JSON object body.");
        }

        try
        {
            RefuseNullItems(body);
            return JsonSerializer.Deserialize<T>(body, ApiJson.ReadOptions)
                ?? throw SmcException.BadRequest(ErrorCodes.MalformedJson, "The body must be a JSON object, not null.");
        }
        catch (JsonException e) when (e.Message.Contains("missing required properties", StringComparison.Ordinal))
        {
            int at = e.Message.IndexOf("including: ", StringComparison.Ordinal);
            string fields = at < 0 ? "" : e.Message[(at + "including: ".Length)..].TrimEnd('.');
            throw SmcException.BadRequest(ErrorCodes.MissingParameter, $"Required fields are missing: {fields}.");
        }
        catch (JsonException e) when (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            throw SmcException.BadRequest(ErrorCodes.UnknownField, $"Unknown field at {e.Path}: check the spelling against the API reference (fields are camelCase).");
        }
        catch (JsonException e)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, $"The body is not valid JSON for this request at {e.Path ?? "$"} (line {e.LineNumber + 1}): {FirstSentence(e.Message)}");
        }
    }

    /// <summary>Like <see cref="ReadJsonAsync{T}"/> but an empty body gives <paramref name="empty"/>.</summary>
    public static async Task<T> ReadJsonOrDefaultAsync<T>(this ApiCall call, T empty)
        where T : class =>
        call.Request.ContentLength is 0 || (call.Request.ContentLength is null && !call.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? empty
            : await call.ReadJsonAsync<T>();

    /// <summary>No list of the API holds nulls: <c>[null]</c> anywhere in a body is refused before it is bound.</summary>
    private static void RefuseNullItems(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = ApiJson.Options.MaxDepth });
        var inArray = new Stack<bool>();
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    inArray.Push(true);
                    break;
                case JsonTokenType.StartObject:
                    inArray.Push(false);
                    break;
                case JsonTokenType.EndArray or JsonTokenType.EndObject:
                    inArray.Pop();
                    break;
                case JsonTokenType.Null when inArray.Count > 0 && inArray.Peek():
                    throw SmcException.BadRequest(ErrorCodes.MalformedJson, "A list in the body holds null: lists of this API take values, not nulls.");
            }
        }
    }

    public static async Task<JsonElement> ReadJsonElementAsync(this ApiCall call)
    {
        byte[] body = await ReadBytesAsync(call);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, $"The body is not valid JSON (line {e.LineNumber + 1}): {FirstSentence(e.Message)}");
        }
    }

    /// <summary>The body as bytes, at most <see cref="MaxBodyBytes"/> (413 past it).</summary>
    public static async Task<byte[]> ReadBytesAsync(this ApiCall call)
    {
        if (call.Request.ContentLength > MaxBodyBytes)
        {
            throw new SmcException(413, ErrorCodes.BodyTooLarge, $"The body is larger than {MaxBodyBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int n;
        while ((n = await call.Request.Body.ReadAsync(chunk, call.CancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxBodyBytes)
            {
                throw new SmcException(413, ErrorCodes.BodyTooLarge, $"The body is larger than {MaxBodyBytes} bytes.");
            }
        }

        return buffer.ToArray();
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..(dot + 1)] : message;
    }
}
