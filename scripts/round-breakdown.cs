#:package Azure.Data.Tables
#:property PublishAot=false

// Measurement (issue 20; a command, not a test), used by scripts/round-breakdown.sh and scripts/load.sh: where
// orchestrations' time goes, read from the Durable Task Framework's own history table (the newest execution of each
// instance: each round is a generation). For each activity: scheduled → its completion recorded (dispatch + run), and
// completion → the orchestrator's next run (pickup); for each external event, when it came after the generation began.
// Usage: dotnet run scripts/round-breakdown.cs -- CONNECTION_STRING HUB INSTANCE_ID...
// One instance: one JSON line per step, then a summary. Several: per step, the count, mean and p95 over all of them.
using System.Text.Json;
using Azure.Data.Tables;

string connection = args[0], hub = args[1];
var table = new TableClient(connection, hub + "History");
var steps = new List<(string Instance, string Step, double DispatchRun, double Pickup, double? At)>();
var spans = new List<double>();
foreach (string instance in args.Skip(2))
{
    var events = new List<(string Execution, string Type, string? Name, int Id, int Scheduled, DateTimeOffset At, string Row)>();
    await foreach (TableEntity r in table.QueryAsync<TableEntity>(e => e.PartitionKey == instance))
    {
        if (r.GetString("EventType") is { } type)
        {
            events.Add((r.GetString("ExecutionId") ?? "", type, r.GetString("Name"), r.GetInt32("EventId") ?? -1, r.GetInt32("TaskScheduledId") ?? r.GetInt32("TimerId") ?? -1,
                r.GetDateTimeOffset("_Timestamp") ?? r.GetDateTimeOffset("Timestamp") ?? r.Timestamp ?? DateTimeOffset.MinValue, r.RowKey));
        }
    }

    if (events.Count == 0)
    {
        Console.Error.WriteLine($"no history for {instance} in {hub}History");
        continue;
    }

    string newest = events.Where(e => e.Type == "ExecutionStarted").MaxBy(e => e.At).Execution;
    events = [.. events.Where(e => e.Execution == newest).OrderBy(e => e.At).ThenBy(e => e.Row, StringComparer.Ordinal)];
    DateTimeOffset first = events[0].At;
    spans.Add((events[^1].At - first).TotalMilliseconds);
    var scheduled = new Dictionary<int, (string Name, DateTimeOffset At)>();
    for (int i = 0; i < events.Count; i++)
    {
        var e = events[i];
        switch (e.Type)
        {
            case "TaskScheduled":
                scheduled[e.Id] = (e.Name ?? "?", e.At);
                break;
            case "TimerCreated":
                scheduled[e.Id] = ("timer", e.At);
                break;
            case "EventRaised":
                steps.Add((instance, "event " + e.Name, 0, 0, (e.At - first).TotalMilliseconds));
                break;
            case "TaskCompleted" or "TaskFailed" or "TimerFired":
                if (scheduled.TryGetValue(e.Scheduled, out var s))
                {
                    var next = events.Skip(i + 1).FirstOrDefault(x => x.Type == "OrchestratorStarted");
                    double picked = next.Type is null ? 0 : Math.Max(0, (next.At - e.At).TotalMilliseconds);
                    steps.Add((instance, s.Name, (e.At - s.At).TotalMilliseconds, picked, null));
                }

                break;
        }
    }
}

if (steps.Count == 0)
{
    return 1;
}

static double P(List<double> v, int pct) => v.Count == 0 ? 0 : v.Order().ElementAt(Math.Min(v.Count - 1, (int)Math.Ceiling(pct / 100.0 * v.Count) - 1));

if (args.Length == 3)
{
    foreach (var s in steps)
    {
        Console.WriteLine(s.At is { } at
            ? JsonSerializer.Serialize(new { step = s.Step, atMs = Math.Round(at) })
            : JsonSerializer.Serialize(new { step = s.Step, dispatchAndRunMs = Math.Round(s.DispatchRun), pickupMs = Math.Round(s.Pickup) }));
    }
}
else
{
    foreach (var g in steps.GroupBy(s => s.Step).OrderBy(g => steps.IndexOf(g.First())))
    {
        List<double> run = [.. g.Select(s => s.At ?? s.DispatchRun)], pick = [.. g.Select(s => s.Pickup)];
        Console.WriteLine(JsonSerializer.Serialize(new { step = g.Key, count = g.Count(), meanMs = Math.Round(run.Average()), p95Ms = Math.Round(P(run, 95)), meanPickupMs = Math.Round(pick.Average()), p95PickupMs = Math.Round(P(pick, 95)) }));
    }
}

var activities = steps.Where(s => s.At is null && s.Step != "timer").ToList();
Console.WriteLine(JsonSerializer.Serialize(new
{
    summary = true,
    instances = spans.Count,
    activities = activities.Count,
    spanMs = Math.Round(spans.Average()),
    dispatchAndRunMs = Math.Round(activities.Sum(s => s.DispatchRun) / spans.Count),
    pickupMs = Math.Round(steps.Where(s => s.At is null).Sum(s => s.Pickup) / spans.Count),
    timersMs = Math.Round(steps.Where(s => s.Step == "timer").Sum(s => s.DispatchRun) / spans.Count),
}));
return 0;
