using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.RegularExpressions;
using Smc.Core.Api;
using Smc.Wire.Agent;

namespace Smc.Api;

/// <summary>
/// The OpenAPI 3.1 description of <see cref="ApiRoutes.All"/>, built from the route table itself (so both hosts serve
/// the same document and it can't list a route that doesn't exist): one operation per route (operationId = the route's
/// name, which is also the Functions name), its path parameters from the template, its security from its
/// <see cref="RouteAuth"/>, and for the routes in <see cref="Shapes"/> the query parameters and the JSON body schema
/// (made from the request type by System.Text.Json's schema exporter, with the API's own serializer options). Errors are
/// problem+json with the stable <c>code</c>. Written by hand because Microsoft.AspNetCore.OpenApi describes ASP.NET
/// endpoints, and the Functions host has none: its triggers run the same table.
/// </summary>
public static partial class OpenApiDocument
{
    /// <summary>What a route reads beyond its path: query parameters, and the type of its JSON body.</summary>
    internal static readonly IReadOnlyDictionary<string, (string[] Query, Type? Body)> Shapes = new Dictionary<string, (string[], Type?)>
    {
        ["CreateAccessToken"] = ([], typeof(CreateAccessTokenRequest)),
        ["ListAccessTokens"] = (["pageNumber", "pageSize"], null),
        ["ListSourceServers"] = (["state", "name", "tag", "pageNumber", "pageSize"], null),
        ["PatchSourceServer"] = ([], typeof(PatchSourceServerRequest)),
        ["CreateReplicationJob"] = ([], typeof(CreateReplicationJobRequest)),
        ["ListReplicationJobs"] = (["status", "sourceId", "name", "tag", "waveId", "pageNumber", "pageSize"], null),
        ["ListReplicationJobRuns"] = (["pageNumber", "pageSize"], null),
        ["CreateJobTemplate"] = ([], typeof(JobTemplateRequest)),
        ["ListJobTemplates"] = (["name", "tag", "pageNumber", "pageSize"], null),
        ["PatchJobTemplate"] = ([], typeof(JobTemplateRequest)),
        ["CreateWave"] = ([], typeof(WaveRequest)),
        ["CreateAccessKey"] = ([], typeof(Routes.CreateAccessKeyRequest)),
        ["ListAccessKeys"] = (["pageNumber", "pageSize"], null),
        ["ExportInventory"] = (["format", "waveId", "tag"], null),
        ["ListWaves"] = (["name", "tag", "pageNumber", "pageSize"], null),
        ["PatchWave"] = ([], typeof(WaveRequest)),
        ["AddWaveMembers"] = ([], typeof(WaveMembersRequest)),
        ["RunWaveAction"] = ([], typeof(CutoverRequest)),
        ["CutoverReplicationJob"] = ([], typeof(CutoverRequest)),
        ["BatchReplicationJobs"] = ([], typeof(Routes.BatchRequest)),
        ["ListImages"] = (["jobId", "pageNumber", "pageSize"], null),
        ["DownloadImageDisk"] = (["format"], null),
        ["AgentRegister"] = ([], typeof(RegisterRequest)),
        ["AgentHeartbeat"] = ([], typeof(HeartbeatRequest)),
        ["AgentCreateJob"] = ([], typeof(CreateReplicationJobRequest)),
        ["AgentProgress"] = ([], typeof(ProgressReport)),
        ["AgentCommitRound"] = ([], typeof(RoundCommitRequest)),
        ["AgentFailRound"] = ([], typeof(RoundFailureRequest)),
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The API's serializer options with the reflection resolver the schema exporter needs.</summary>
    private static readonly JsonSerializerOptions Schemas = new(ApiJson.Options) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };

    private static readonly Lazy<byte[]> Document = new(() => JsonSerializer.SerializeToUtf8Bytes(Build(), Indented));

    /// <summary>The document as served (built once).</summary>
    public static byte[] Json => Document.Value;

    public static JsonObject Build()
    {
        var paths = new JsonObject();
        var schemas = new JsonObject
        {
            ["Problem"] = new JsonObject
            {
                ["type"] = "object",
                ["description"] = "RFC 9457 problem details; code is stable and machine-readable, detail says how to fix it.",
                ["required"] = new JsonArray("type", "title", "status", "detail", "code"),
                ["properties"] = new JsonObject
                {
                    ["type"] = new JsonObject { ["type"] = "string" },
                    ["title"] = new JsonObject { ["type"] = "string" },
                    ["status"] = new JsonObject { ["type"] = "integer" },
                    ["detail"] = new JsonObject { ["type"] = "string" },
                    ["code"] = new JsonObject { ["type"] = "string" },
                    ["instance"] = new JsonObject { ["type"] = "string" },
                },
            },
        };
        foreach (IGrouping<string, ApiRoute> path in ApiRoutes.All.GroupBy(r => "/" + r.Template))
        {
            var item = new JsonObject();
            foreach (ApiRoute route in path)
            {
                item[route.Method.ToLowerInvariant()] = Operation(route, schemas);
            }

            paths[path.Key] = item;
        }

        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "SMC Serverless control plane",
                ["version"] = "1",
                ["description"] = "Server migration to Alibaba Cloud: sources, replication jobs, images. Errors are application/problem+json with a stable code.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/api" }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["operatorKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = OperatorKeyAuth.Header },
                    ["agentCredential"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "The source credential an agent got at registration." },
                    ["activationCode"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "An activation code (POST /api/v1/access-tokens); ?code= also works." },
                },
            },
        };
    }

    private static JsonObject Operation(ApiRoute route, JsonObject schemas)
    {
        var parameters = new JsonArray();
        foreach (Match m in PathParameter().Matches(route.Template))
        {
            parameters.Add(new JsonObject { ["name"] = m.Groups[1].Value, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
        }

        (string[] query, Type? body) = Shapes.TryGetValue(route.Name, out var shape) ? shape : ([], null);
        foreach (string q in query)
        {
            parameters.Add(new JsonObject { ["name"] = q, ["in"] = "query", ["required"] = false, ["schema"] = new JsonObject { ["type"] = q is "pageNumber" or "pageSize" ? "integer" : "string" } });
        }

        var operation = new JsonObject
        {
            ["operationId"] = route.Name,
            ["tags"] = new JsonArray(route.Template.Split('/')[1].Split(':')[0]),
            ["parameters"] = parameters,
            ["responses"] = new JsonObject
            {
                ["2XX"] = new JsonObject { ["description"] = "Done; the body (if any) is the resource or its page." },
                ["default"] = new JsonObject
                {
                    ["description"] = "An error with its code and what to do.",
                    ["content"] = new JsonObject { [Problem.ContentType] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/Problem" } } },
                },
            },
        };
        if (body is not null)
        {
            schemas[body.Name] ??= Rebase(JsonSchemaExporter.GetJsonSchemaAsNode(Schemas, body, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true }), $"#/components/schemas/{body.Name}");
            operation["requestBody"] = new JsonObject
            {
                ["required"] = route.Name != "CutoverReplicationJob",
                ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{body.Name}" } } },
            };
        }

        operation["security"] = route.Auth switch
        {
            RouteAuth.Operator => new JsonArray(new JsonObject { ["operatorKey"] = new JsonArray() }),
            RouteAuth.Agent => new JsonArray(new JsonObject { ["agentCredential"] = new JsonArray() }),
            RouteAuth.ActivationCode => new JsonArray(new JsonObject { ["activationCode"] = new JsonArray() }),
            _ => new JsonArray(),
        };
        return operation;
    }

    /// <summary>The exporter's <c>$ref</c>s point into the schema's own root; under components they must name their new place.</summary>
    private static JsonNode Rebase(JsonNode node, string root)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue r && r.GetValue<string>() is { } target && target.StartsWith('#'))
                {
                    o["$ref"] = root + target[1..];
                }

                foreach (KeyValuePair<string, JsonNode?> child in o.ToList())
                {
                    if (child.Value is not null && child.Key != "$ref")
                    {
                        Rebase(child.Value, root);
                    }
                }

                break;
            case JsonArray a:
                foreach (JsonNode? child in a)
                {
                    if (child is not null)
                    {
                        Rebase(child, root);
                    }
                }

                break;
        }

        return node;
    }

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex PathParameter();
}
