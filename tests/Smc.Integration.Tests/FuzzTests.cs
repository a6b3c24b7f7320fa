using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Every operation of the OpenAPI document, as the operator, as an agent and anonymous, with hostile bodies (null, wrong
/// types, deep nesting, huge strings, nulls inside lists, each schema field made null, a list of null, an object, a huge
/// string) and hostile path values: no 5xx, no reset, and nothing stored by a request that was refused.
/// </summary>
public sealed class FuzzTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    private static readonly string Huge = new('x', 600_000);

    private static readonly string[] Bodies =
    [
        "null", "[]", "[null]", "\"text\"", "0", "-1", "true", "1e309", "{\"a\":null}", "{\"a\":[null]}",
        "{", "{\"a\":1,}", "\u0000", Deep(200), "{\"name\":\"" + Huge + "\"}", "{\"jobs\":[null],\"operations\":[null],\"job\":null}",
        "{\"sourceId\":null,\"name\":null,\"disks\":null,\"systemInfo\":null}", "{\"disks\":[null],\"dataDisks\":[null],\"systemDiskParts\":[null]}",
        "{\"replicationParameters\":null,\"systemInfo\":{\"cpus\":null}}",
        "{\"a\":\"\\ud800\"}", "{\"name\":1,\"count\":\"ten\"}", "{\"__proto__\":{}}", "{\"commands\":null,\"disks\":{}}",
        "{\"round\":-1,\"manifestSha256\":null,\"consistency\":{\"volumes\":[null]}}",
    ];

    private static readonly string[] PathValues = ["..", "%00", "j-aaaaaaaaaaaaaaaa", new string('a', 4000), "%E2%80%AE%F0%9F%92%A5", "-1", "99999999999999999999", "'%20OR%201=1"];

    [Fact]
    public async Task EveryOperation_HostileInput_No5xxNoResetNothingStoredWhenRefused()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 180);
        await agent.StartJobAsync();
        ApiClient op = fx.Control.Operator();
        JsonNode doc = (await new ApiClient(fx.Control.Url).GetAsync("/api/v1/openapi.json")).Expect(HttpStatusCode.OK).Json;
        (string Name, ApiClient Client)[] callers = [("operator", op), ("agent", agent.Agent), ("anonymous", new ApiClient(fx.Control.Url))];
        Dictionary<string, int> before = await CountsAsync(op);

        int sent = 0, accepted = 0;
        var failures = new List<string>();
        foreach ((string template, JsonNode? item) in doc["paths"]!.AsObject())
        {
            foreach ((string method, JsonNode? operation) in item!.AsObject())
            {
                var m = new HttpMethod(method.ToUpperInvariant());
                string path = "/api" + Fill(template, agent);
                List<string> bodies = [.. Bodies, .. FieldMutations(operation!, doc)];
                foreach ((string who, ApiClient client) in callers)
                {
                    foreach (string body in bodies)
                    {
                        await SendAsync(client, m, path, body, who);
                    }

                    foreach (string value in PathValues.Where(_ => template.Contains('{', StringComparison.Ordinal)))
                    {
                        await SendAsync(client, m, "/api" + FillWith(template, value), "{}", who);
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed:\n{string.Join('\n', failures.Take(20))}");
        Assert.True(sent >= 3000, $"only {sent} requests");

        // Nothing stored by what was refused: each collection grew by at most the requests that were accepted.
        Dictionary<string, int> after = await CountsAsync(op);
        foreach ((string collection, int count) in after)
        {
            Assert.True(count - before[collection] <= accepted, $"{collection}: {before[collection]} → {count} with {accepted} requests accepted");
        }

        async Task SendAsync(ApiClient client, HttpMethod m, string path, string body, string who)
        {
            sent++;
            try
            {
                Reply reply = await client.SendAsync(m, path, null, m == HttpMethod.Get || m == HttpMethod.Delete ? null : body);
                if ((int)reply.Status >= 500)
                {
                    failures.Add($"{(int)reply.Status} {m} {Cut(path)} as {who} with {Cut(body)}: {Cut(reply.Body)}");
                }
                else if ((int)reply.Status < 300 && m == HttpMethod.Post)
                {
                    accepted++;
                }
            }
            catch (HttpRequestException e)
            {
                failures.Add($"reset: {m} {Cut(path)} as {who} with {Cut(body)}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Bodies from the operation's schema: every field given a plain value of its type, then each field in turn made null,
    /// a list of null, a nested object, a huge string, the smallest long, nested empty lists — so a hostile value reaches
    /// the code past the required-field checks.
    /// </summary>
    private static IEnumerable<string> FieldMutations(JsonNode operation, JsonNode doc)
    {
        string? reference = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>();
        JsonObject? properties = reference is null ? null : doc["components"]!["schemas"]![reference.Split('/')[^1]]?["properties"]?.AsObject();
        if (properties is null)
        {
            yield break;
        }

        var plain = new JsonObject();
        foreach ((string field, JsonNode? schema) in properties)
        {
            string? type = schema?["type"] is JsonArray types ? types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null") : schema?["type"]?.GetValue<string>();
            plain[field] = type switch
            {
                "string" => "x",
                "integer" or "number" => 1,
                "boolean" => true,
                "array" => new JsonArray(),
                _ => new JsonObject(),
            };
        }

        yield return plain.ToJsonString();
        foreach (string field in properties.Select(p => p.Key))
        {
            foreach (string value in new[] { "null", "[null]", "{\"x\":{\"y\":[null]}}", "\"" + new string('z', 70_000) + "\"", "-9223372036854775808", "[[[[[]]]]]" })
            {
                JsonObject body = plain.DeepClone().AsObject();
                body[field] = JsonNode.Parse(value);
                yield return body.ToJsonString();
            }
        }
    }

    private static string Fill(string template, ProtocolAgent agent) =>
        FillWith(template, template.Contains("/sources/", StringComparison.Ordinal) ? agent.SourceId : agent.JobId).Replace("/rounds/" + agent.JobId, "/rounds/0", StringComparison.Ordinal);

    private static string FillWith(string template, string value)
    {
        var result = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] == '{')
            {
                int close = template.IndexOf('}', i);
                result.Append(value);
                i = close;
            }
            else
            {
                result.Append(template[i]);
            }
        }

        return result.ToString();
    }

    private static async Task<Dictionary<string, int>> CountsAsync(ApiClient op) => new()
    {
        ["jobs"] = (await op.GetAsync("/api/v1/replication-jobs?pageSize=50")).Expect(HttpStatusCode.OK).Json["totalCount"]!.GetValue<int>(),
        ["sources"] = (await op.GetAsync("/api/v1/source-servers?pageSize=50")).Expect(HttpStatusCode.OK).Json["totalCount"]!.GetValue<int>(),
        ["tokens"] = (await op.GetAsync("/api/v1/access-tokens?pageSize=50")).Expect(HttpStatusCode.OK).Json["totalCount"]!.GetValue<int>(),
    };

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    private static string Cut(string s) => s.Length > 160 ? s[..160] + "…" : s;
}
