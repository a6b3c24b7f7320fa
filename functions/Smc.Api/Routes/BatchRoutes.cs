using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Smc.Core.Api;
using Smc.Core.Errors;
using Smc.Core.Ports;
using Smc.Core.Services;

namespace Smc.Api.Routes;

/// <summary>One operation of <c>POST /api/v1/replication-jobs:batch</c> (docs/api.md).</summary>
public sealed class BatchOperation
{
    /// <summary><c>create</c>, <c>start</c>, <c>stop</c>, <c>cutover</c>, <c>delete</c>, <c>pause</c> or <c>resume</c>.</summary>
    public string? Action { get; init; }

    public string? JobId { get; init; }

    /// <summary>Idempotency: a repeated create gives the same job; a repeated action on the same job is answered, not done again.</summary>
    public string? ClientToken { get; init; }

    /// <summary>For <c>create</c>: the fields of <c>POST /api/v1/replication-jobs</c> (its clientToken defaults to the operation's).</summary>
    public JsonElement? Job { get; init; }

    /// <summary>For <c>cutover</c>.</summary>
    public bool? SyncData { get; init; }
}

public sealed class BatchRequest
{
    public List<BatchOperation>? Operations { get; init; }
}

/// <summary>One operation's outcome: the HTTP status the single call would have had, its job, or its problem.</summary>
public sealed record BatchResult(int Index, int Status, string? JobId, Problem? Error);

/// <summary>
/// The bulk route: each operation runs as its own single call would (same validation, state rules and codes) and
/// gets its own result, so partial success is normal. Operations on different jobs run a few at a time; those on one
/// job run in the order given. With a clientToken, a create is idempotent as the single create is, and an action on a
/// job already done with that token is answered with the status it had instead of being done twice.
/// </summary>
internal static class BatchRoutes
{
    public const int MaxOperations = 100;
    private const int Parallelism = 8;

    public static IEnumerable<ApiRoute> All()
    {
        yield return new("BatchReplicationJobs", "POST", "v1/replication-jobs:batch", RouteAuth.Operator, async call =>
        {
            BatchRequest request = await call.ReadJsonAsync<BatchRequest>();
            if (request.Operations is not { Count: > 0 and <= MaxOperations } operations)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidBatch, $"operations must list 1–{MaxOperations} operations.");
            }

            return Results.Json(new { results = await RunAllAsync(call, operations) }, ApiJson.Options);
        });
    }

    /// <summary>Runs the operations (also a wave's actions, one per job): different jobs a few at a time, one job's in order.</summary>
    internal static async Task<BatchResult[]> RunAllAsync(ApiCall call, IReadOnlyList<BatchOperation> operations)
    {
        var results = new BatchResult[operations.Count];
        IEnumerable<IGrouping<string, int>> groups = Enumerable.Range(0, operations.Count)
            .GroupBy(i => operations[i].Action == "create" || operations[i].JobId is null ? "#" + i : operations[i].JobId!);
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = call.CancellationToken }, async (group, _) =>
        {
            foreach (int i in group)
            {
                results[i] = await GuardAsync(call, i, operations[i].JobId, () => PerformAsync(call, operations[i]), operations[i].Action);
            }
        });
        return results;
    }

    /// <summary>One operation's result: its status and job, or the problem its single call would have answered.</summary>
    internal static async Task<BatchResult> GuardAsync(ApiCall call, int index, string? jobId, Func<Task<(int Status, string? JobId)>> perform, string? action = null)
    {
        string instance = $"{call.Request.Path}#/operations/{index}";
        try
        {
            (int status, string? done) = await perform();
            return new BatchResult(index, status, done, null);
        }
        catch (SmcException e)
        {
            return new BatchResult(index, e.Status, jobId, Problem.From(e, instance));
        }
        catch (JsonException e)
        {
            return new BatchResult(index, 400, jobId, Problem.From(SmcException.BadRequest(ErrorCodes.MalformedJson, $"operations[{index}].job: {e.Message}"), instance));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One operation's failure (storage, say) is its own: the others' results still reach the caller.
            call.Get<ILoggerFactory>().CreateLogger("Smc.Api.Batch").BatchOperationFailed(e, index, action, jobId);
            return new BatchResult(index, 500, jobId, Problem.From(new SmcException(500, ErrorCodes.InternalError, "This operation failed unexpectedly; the others are unaffected. Retry it (with the same clientToken)."), instance));
        }
    }

    private static async Task<(int Status, string? JobId)> PerformAsync(ApiCall call, BatchOperation op)
    {
        ReplicationJobService jobs = call.Get<ReplicationJobService>();
        CancellationToken ct = call.CancellationToken;
        if (op.Action == "create")
        {
            if (op.Job is not { ValueKind: JsonValueKind.Object } body)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidBatch, "A create operation needs job: the fields of POST /api/v1/replication-jobs.");
            }

            CreateReplicationJobRequest request = body.Deserialize<CreateReplicationJobRequest>(ApiJson.Options)!;
            if (request.ClientToken is null && op.ClientToken is not null)
            {
                request = request with { ClientToken = op.ClientToken };
            }

            CreatedJob created = await jobs.CreateAsync(request, ct);
            return (created.Replayed ? 200 : 201, created.JobId);
        }

        if (op.Action is not ("start" or "stop" or "cutover" or "delete" or "pause" or "resume"))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidBatch, $"Unknown action '{op.Action}': use create, start, stop, cutover, delete, pause or resume.");
        }

        if (string.IsNullOrEmpty(op.JobId))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidBatch, $"A {op.Action} operation needs jobId.");
        }

        IKeyIndex keys = call.Get<IKeyIndex>();
        string? receipt = op.ClientToken is null ? null : $"{op.Action}:{op.JobId}:{op.ClientToken}";
        if (receipt is not null && await keys.GetAsync(KeyScopes.BatchReceipt, receipt, ct) is { } done)
        {
            return (int.Parse(done, System.Globalization.CultureInfo.InvariantCulture), op.JobId);
        }

        int status = op.Action switch
        {
            "start" => await Accepted(jobs.StartAsync(op.JobId, ct)),
            "stop" => await Accepted(jobs.StopAsync(op.JobId, ct)),
            "cutover" => await Accepted(jobs.CutoverAsync(op.JobId, new CutoverRequest { SyncData = op.SyncData ?? false }, ct)),
            "pause" => await Ok(call.Get<JobPauseService>().PauseAsync(op.JobId, ct)),
            "resume" => await Ok(call.Get<JobPauseService>().ResumeAsync(op.JobId, ct)),
            _ => await NoContent(jobs.DeleteAsync(op.JobId, ct)),
        };
        if (receipt is not null)
        {
            await keys.SetAsync(KeyScopes.BatchReceipt, receipt, status.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
        }

        return (status, op.JobId);

        static async Task<int> Accepted(Task task)
        {
            await task;
            return 202;
        }

        static async Task<int> Ok(Task task)
        {
            await task;
            return 200;
        }

        static async Task<int> NoContent(Task task)
        {
            await task;
            return 204;
        }
    }
}
