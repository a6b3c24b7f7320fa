using System.Text.Json.Nodes;
using Smc.Api;
using Smc.Core.Orchestration;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// The Functions app is the deployed twin of smc-control: the built functions.metadata must hold one
/// function per route (same method, route and auth) and per orchestrator/activity, and nothing else.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Dictionary<string, JsonNode> Functions = Load();

    [Fact]
    public void EveryRoute_HasHttpTriggerTwin()
    {
        foreach (ApiRoute route in ApiRoutes.All)
        {
            Assert.True(Functions.TryGetValue(route.Name, out JsonNode? f), $"No function for route {route.Name}");
            JsonNode trigger = Trigger(f!, "httpTrigger");
            Assert.Equal(route.Template, trigger["route"]!.GetValue<string>());
            Assert.Equal([route.Method.ToLowerInvariant()], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>().ToLowerInvariant()));
            Assert.Equal(route.Auth == RouteAuth.Operator ? "Function" : "Anonymous", trigger["authLevel"]!.GetValue<string>());
            Assert.Contains(f!["bindings"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "durableClient");
        }
    }

    [Fact]
    public void EveryTask_HasOrchestrationOrActivityTriggerTwin()
    {
        foreach (string name in TaskNames.Orchestrators)
        {
            Assert.True(Functions.TryGetValue(name, out JsonNode? f), $"No orchestrator function {name}");
            Trigger(f!, "orchestrationTrigger");
        }

        foreach (string name in TaskNames.Activities)
        {
            Assert.True(Functions.TryGetValue(name, out JsonNode? f), $"No activity function {name}");
            Trigger(f!, "activityTrigger");
        }

        var registry = new Microsoft.DurableTask.DurableTaskRegistry();
        MigrationTasks.Register(registry);
        Assert.Equal(TaskNames.Orchestrators.Count + TaskNames.Activities.Count, CountRegistered(registry));
    }

    [Fact]
    public void FunctionsApp_HasNothingTheStandaloneHostLacks()
    {
        var known = ApiRoutes.All.Select(r => r.Name).Concat(TaskNames.Orchestrators).Concat(TaskNames.Activities).Append("Housekeeping").Append("SmcCompatibleApi").ToHashSet();
        Assert.All(Functions.Keys, k => Assert.Contains(k, known));
        Trigger(Functions["Housekeeping"], "timerTrigger");
        // Expiring a job terminates its orchestration: the timer needs the Durable client binding too.
        Assert.Contains(Functions["Housekeeping"]["bindings"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "durableClient");
    }

    [Fact]
    public void HostJson_ConfiguresDurableTaskHubAndIsCopiedToOutput()
    {
        JsonNode host = JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(Repo.FunctionsMetadata)!, "host.json")))!;
        Assert.Equal("smchub", host["extensions"]!["durableTask"]!["hubName"]!.GetValue<string>());
        Assert.Equal("api", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
    }

    private static JsonNode Trigger(JsonNode function, string type) =>
        function["bindings"]!.AsArray().SingleOrDefault(b => b!["type"]!.GetValue<string>() == type)
            ?? throw new Xunit.Sdk.XunitException($"{function["name"]} has no {type} binding");

    private static int CountRegistered(Microsoft.DurableTask.DurableTaskRegistry registry)
    {
        // The registry keeps its factories internal; count through reflection on its two dictionaries.
        int count = 0;
        foreach (var p in registry.GetType().GetProperties(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic))
        {
            if (p.GetValue(registry) is System.Collections.ICollection c && (p.Name.Contains("Orchestrator", StringComparison.Ordinal) || p.Name.Contains("Activit", StringComparison.Ordinal)))
            {
                count += c.Count;
            }
        }

        return count;
    }

    private static Dictionary<string, JsonNode> Load()
    {
        if (!File.Exists(Repo.FunctionsMetadata))
        {
            throw new InvalidOperationException($"{Repo.FunctionsMetadata} is missing: build functions/Smc.Functions (scripts/test.sh builds the solution).");
        }

        return JsonNode.Parse(File.ReadAllText(Repo.FunctionsMetadata))!.AsArray()
            .ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
    }
}
