namespace Smc.Agent.Control;

/// <summary>
/// The control plane answered with an error (<see cref="Status"/> and problem <see cref="Code"/>), or could not be
/// reached (<see cref="Status"/> 0). Transient: unreachable, 408, 429 and 5xx.
/// </summary>
internal sealed class ControlPlaneException(int status, string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    /// <summary>Worth retrying: no answer, a timeout, throttling, a server error, or a record that was busy (409 ConcurrentUpdate).</summary>
    public bool IsTransient => Status is 0 or 408 or 429 or >= 500 || Code == "OperationConflict.ConcurrentUpdate";
}
