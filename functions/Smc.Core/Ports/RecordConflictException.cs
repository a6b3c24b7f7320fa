namespace Smc.Core.Ports;

/// <summary>The record exists already (insert) or changed since it was read (replace/delete).</summary>
public sealed class RecordConflictException : Exception
{
    public RecordConflictException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
