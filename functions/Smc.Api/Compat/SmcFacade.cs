using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Smc.Alibaba.Signing;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Services;

namespace Smc.Api.Compat;

/// <summary>
/// The SMC-compatible API (issue 19): Alibaba SMC's RPC actions (version 2019-06-01) as its SDKs and scripts send them —
/// signed with ACS3-HMAC-SHA256 or the RPC HMAC-SHA1 against the operator's access keys — answered with SMC's
/// PascalCase fields, list wrappers, paging and error shape, by the same services as the REST API (so the same checks
/// and state rules). What each action covers: docs/smc-compat.md.
/// </summary>
public sealed class SmcFacade(AcsRequestVerifier verifier, AccessKeyService accessKeys, IServiceProvider services)
{
    public const string Version = "2019-06-01";

    private static readonly JsonSerializerOptions Pascal = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        string requestId = Guid.NewGuid().ToString("D").ToUpperInvariant();
        try
        {
            AcsVerified call = await VerifyAsync(http);
            if (call.Version != Version)
            {
                throw new AcsRefusedException(400, "InvalidVersion", $"Specified parameter Version '{call.Version}' is not valid: this API is SMC {Version}.");
            }

            var p = new SmcParameters(call.Parameters);
            JsonObject answer = await SmcActions.RunAsync(call.Action, p, services, http.RequestAborted)
                ?? throw new AcsRefusedException(404, "InvalidAction.NotFound", $"Specified api '{call.Action}' is not found in SMC {Version} here (docs/smc-compat.md lists the actions).");
            answer["RequestId"] = requestId;
            return Results.Text(answer.ToJsonString(Pascal), "application/json; charset=utf-8", Encoding.UTF8, 200);
        }
        catch (AcsRefusedException e)
        {
            return Error(requestId, http, e.Status, e.Code, e.Message);
        }
        catch (SmcException e)
        {
            return Error(requestId, http, e.Status, e.Code, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // SMC's shape for the unexpected too, with the request id to find it in the log; no details to the caller.
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Smc.Api.Compat").SmcCallFailed(e, requestId);
            return Error(requestId, http, 500, ErrorCodes.InternalError, "The request failed unexpectedly; retry it, and if it fails again give the operator this RequestId.");
        }
    }

    private async Task<AcsVerified> VerifyAsync(HttpContext http)
    {
        byte[] body = await ApiCallBody.ReadBytesAsync(new ApiCall(http, http.RequestServices, new Dictionary<string, string?>()));
        List<KeyValuePair<string, string>> form = [];
        if (http.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach ((string key, Microsoft.Extensions.Primitives.StringValues values) in QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)))
            {
                form.AddRange(values.Select(v => new KeyValuePair<string, string>(key, v ?? "")));
            }
        }

        var query = http.Request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? ""))).ToList();
        var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value.Select(v => v?.Trim()).Order(StringComparer.Ordinal)), StringComparer.Ordinal);
        var request = new AcsSignedRequest(http.Request.Method, (http.Request.PathBase + http.Request.Path).Value is { Length: > 0 } path ? path : "/", query, form, headers, body);
        return await verifier.VerifyAsync(request, id => accessKeys.SecretAsync(id, http.RequestAborted), (id, nonce) => accessKeys.ClaimNonceAsync(id, nonce, http.RequestAborted));
    }

    private static IResult Error(string requestId, HttpContext http, int status, string code, string message) =>
        Results.Text(new JsonObject
        {
            ["RequestId"] = requestId,
            ["HostId"] = http.Request.Host.Value,
            ["Code"] = code,
            ["Message"] = message,
            ["Recommend"] = "docs/smc-compat.md",
        }.ToJsonString(Pascal), "application/json; charset=utf-8", Encoding.UTF8, status);
}

/// <summary>An RPC call's parameters, read as SMC declares them (strings, numbers, booleans, <c>X.N</c> lists, <c>Tag.N.Key</c>).</summary>
internal sealed class SmcParameters(IReadOnlyDictionary<string, string> values)
{
    private const int TagLimit = Core.Domain.Tags.MaxCount;

    public string? Str(string name) => values.TryGetValue(name, out string? v) && v.Length > 0 ? v : null;

    public string Required(string name) => Str(name) ?? throw SmcException.BadRequest(ErrorCodes.MissingParameter, $"{name} is mandatory for this action.");

    public int? Int(string name) => Str(name) is not { } v ? null
        : int.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n
        : throw SmcException.BadRequest(ErrorCodes.InvalidParameter, $"{name} must be a whole number, not '{v}'.");

    public bool? Bool(string name) => Str(name) is not { } v ? null
        : bool.TryParse(v, out bool b) ? b
        : throw SmcException.BadRequest(ErrorCodes.InvalidParameter, $"{name} must be true or false, not '{v}'.");

    /// <summary><c>Name.1</c>, <c>Name.2</c>… in order (SMC's repeat lists).</summary>
    public List<string> List(string name) =>
        [.. Enumerable.Range(1, 100).Select(i => Str($"{name}.{i}")).TakeWhile(v => v is not null).Select(v => v!)];

    /// <summary><c>Tag.N.Key</c> / <c>Tag.N.Value</c>; null when none is given.</summary>
    public Dictionary<string, string>? Tags()
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i <= TagLimit + 1 && Str($"Tag.{i}.Key") is { } key; i++)
        {
            tags[key] = Str($"Tag.{i}.Value") ?? "";
        }

        return tags.Count == 0 ? null : tags;
    }

    /// <summary>Parameters this façade does not cover are refused by name, never dropped unseen.</summary>
    public void Refuse(params string[] prefixes)
    {
        if (values.Keys.FirstOrDefault(k => prefixes.Any(p => k == p || k.StartsWith(p + ".", StringComparison.Ordinal))) is { } given)
        {
            throw SmcException.BadRequest(ErrorCodes.ParameterNotSupported, $"{given} is not supported by this SMC-compatible API (docs/smc-compat.md): leave it out.");
        }
    }
}
