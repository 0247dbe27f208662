using System.Runtime.InteropServices;

namespace AiAssistant.AppHost.Hosting;

/// <summary>SIGINT, SIGTERM and SIGHUP: the first asks for an orderly stop, the next one forces it.</summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource requested = new();
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration[] registrations;
    private int count;

    public ShutdownSignal()
    {
        Processes.Posix.Unignore(Processes.Posix.SigInt); // Ctrl+C / kill -INT work even when started as a background job
        registrations = [Register(PosixSignal.SIGINT), Register(PosixSignal.SIGTERM), Register(PosixSignal.SIGHUP)];
    }

    public CancellationToken Token => requested.Token;
    public bool Requested => requested.IsCancellationRequested;
    /// <summary>Completes at the first signal.</summary>
    public Task RequestedTask => stopped.Task;

    /// <summary>Raised at the second signal.</summary>
    public event Action? Forced;

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        requested.Dispose();
    }

    private PosixSignalRegistration Register(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true; // we stop the children ourselves, then exit
        if (Interlocked.Increment(ref count) == 1)
        {
            stopped.TrySetResult();
            _ = Task.Run(requested.Cancel); // cancellation callbacks must not run on the signal thread
        }
        else Forced?.Invoke();
    });
}
