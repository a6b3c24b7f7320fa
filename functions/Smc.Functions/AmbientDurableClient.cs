using Microsoft.DurableTask.Client;

namespace Smc.Functions;

/// <summary>
/// The Functions host hands the Durable client to each trigger as a binding (it is not in DI), while the
/// shared services take an <c>IMigrationEngine</c> at construction. The trigger sets the client here for
/// the duration of its call; <see cref="FunctionsMigrationEngine"/> reads it.
/// </summary>
internal static class AmbientDurableClient
{
    private static readonly AsyncLocal<DurableTaskClient?> Current = new();

    public static DurableTaskClient Client =>
        Current.Value ?? throw new InvalidOperationException("No Durable client bound to this invocation: add [DurableClient] to the trigger and call FunctionsApi.");

    public static IDisposable Use(DurableTaskClient client)
    {
        DurableTaskClient? previous = Current.Value;
        Current.Value = client;
        return new Restore(previous);
    }

    private sealed class Restore(DurableTaskClient? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
