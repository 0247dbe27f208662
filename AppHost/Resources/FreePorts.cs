using System.Net;
using System.Net.Sockets;

namespace AiAssistant.AppHost.Resources;

/// <summary>Free loopback TCP ports.</summary>
public static class FreePorts
{
    /// <summary>Distinct ports: every listener stays open until all are picked, so none is handed out twice.</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally { listeners.ForEach(l => l.Stop()); }
    }

    public static int Take() => Take(1)[0];

    /// <summary>True when nothing listens there (bound like servers do, with SO_REUSEADDR, so TIME_WAIT does not count).</summary>
    public static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try { socket.Bind(new IPEndPoint(IPAddress.Loopback, port)); return true; }
        catch (SocketException) { return false; }
    }
}
