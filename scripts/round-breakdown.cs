#:package Azure.Data.Tables
#:property PublishAot=false

// Measurement (issue 20; a command, not a test), used by scripts/round-breakdown.sh: where an orchestration's time goes,
// read from the Durable Task Framework's own history table. For each activity: when the orchestrator scheduled it,
// when its completion was recorded (dispatch + run), and when the orchestrator next ran (the completion's pickup);
// for each timer, its wait. Usage: dotnet run scripts/round-breakdown.cs -- CONNECTION_STRING HUB INSTANCE_ID
// Prints one JSON line per step, then a summary line.
using System.Text.Json;
using Azure.Data.Tables;

string connection = args[0], hub = args[1], instance = args[2];
var table = new TableClient(connection, hub + "History");
var rows = new List<TableEntity>();
await foreach (TableEntity e in table.QueryAsync<TableEntity>(e => e.PartitionKey == instance))
{
    rows.Add(e);
}

// One execution (a generation, after ContinueAsNew) at a time, in event order.
var events = rows.Where(r => r.ContainsKey("EventType"))
    .Select(r => (Execution: r.GetString("ExecutionId") ?? "", Type: r.GetString("EventType")!, Name: r.GetString("Name"),
        Id: r.GetInt32("EventId") ?? -1, Scheduled: r.GetInt32("TaskScheduledId") ?? r.GetInt32("TimerId") ?? -1,
        At: r.GetDateTimeOffset("_Timestamp") ?? r.GetDateTimeOffset("Timestamp") ?? r.Timestamp ?? DateTimeOffset.MinValue, Row: r.RowKey))
    .OrderBy(e => e.At).ThenBy(e => e.Row, StringComparer.Ordinal).ToList();
if (events.Count == 0)
{
    Console.Error.WriteLine($"no history for {instance} in {hub}History ({rows.Count} rows)");
    return 1;
}

// The newest execution is the last round (each round is a generation); older ones may still be in the table.
string newest = events.Where(e => e.Type == "ExecutionStarted").MaxBy(e => e.At).Execution;
events = [.. events.Where(e => e.Execution == newest)];
var scheduled = new Dictionary<(string, int), (string Name, DateTimeOffset At)>();
double dispatchRun = 0, pickup = 0, timers = 0;
int activities = 0;
DateTimeOffset first = events[0].At, last = events[^1].At;
for (int i = 0; i < events.Count; i++)
{
    var e = events[i];
    switch (e.Type)
    {
        case "TaskScheduled":
            scheduled[(e.Execution, e.Id)] = (e.Name ?? "?", e.At);
            break;
        case "EventRaised":
            Console.WriteLine(JsonSerializer.Serialize(new { step = "event " + e.Name, atMs = Math.Round((e.At - first).TotalMilliseconds) }));
            break;
        case "TimerCreated":
            scheduled[(e.Execution, e.Id)] = ("timer", e.At);
            break;
        case "TaskCompleted" or "TaskFailed" or "TimerFired":
            if (scheduled.TryGetValue((e.Execution, e.Scheduled), out var s))
            {
                DateTimeOffset? next = events.Skip(i + 1).FirstOrDefault(x => x.Type == "OrchestratorStarted").At;
                double took = (e.At - s.At).TotalMilliseconds, picked = next is { } n && n != default ? (n - e.At).TotalMilliseconds : 0;
                if (e.Type == "TimerFired")
                {
                    timers += took;
                }
                else
                {
                    dispatchRun += took;
                    activities++;
                }

                pickup += Math.Max(0, picked);
                Console.WriteLine(JsonSerializer.Serialize(new { step = s.Name, scheduledAt = s.At, completedAt = e.At, dispatchAndRunMs = Math.Round(took), pickupMs = Math.Round(Math.Max(0, picked)) }));
            }

            break;
    }
}

Console.WriteLine(JsonSerializer.Serialize(new { summary = true, activities, spanMs = Math.Round((last - first).TotalMilliseconds), dispatchAndRunMs = Math.Round(dispatchRun), pickupMs = Math.Round(pickup), timersMs = Math.Round(timers) }));
return 0;
