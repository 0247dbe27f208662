namespace AiAssistant.AppHost.Resources;

public enum ResourceState { NotStarted, Starting, Running, Stopping, Stopped, Failed }

/// <summary>What the launcher shows of every resource, server or service (Aspire's resource list).</summary>
public interface IResource
{
    string Name { get; }
    /// <summary>"server" or "project".</summary>
    string Kind { get; }
    /// <summary>Where clients connect (URL or host:port).</summary>
    string Endpoint { get; }
    int? Pid { get; }
    ResourceState State { get; }
}

/// <summary>A resource did not start or become healthy; the message names it and ends with its last log lines.</summary>
public sealed class ResourceFailedException(string resource, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Resource { get; } = resource;
}

/// <summary>A server binary is missing; the message says which Debian package provides it.</summary>
public sealed class ServerNotInstalledException(string message) : Exception(message);
