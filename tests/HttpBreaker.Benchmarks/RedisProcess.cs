using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// A <c>redis-server</c> of the fleet scenarios' own on 127.0.0.1 and a free port, without persistence, killed when
/// disposed.
/// </summary>
internal sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Configuration = $"127.0.0.1:{port}";
    }

    /// <summary>Gets the StackExchange.Redis configuration string of the server.</summary>
    public string Configuration { get; }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    /// <exception cref="InvalidOperationException">redis-server is not installed or did not start listening.</exception>
    public static RedisProcess Start()
    {
        string binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "The fleet scenarios need redis-server, which is not installed. Install it with `apt-get install -y redis-server`, " +
                "or leave the fleet scenarios out with --filter.");

        int port = GetFreePort();
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new RedisProcess(process, port);
        server.WaitUntilListening(port);
        return server;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WaitUntilListening(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                // The server is still starting; a connection attempt is cheap, so polling it costs nothing measured.
                Thread.Sleep(20);
            }
        }

        Dispose();
        throw new InvalidOperationException($"redis-server did not accept connections on 127.0.0.1:{port} within 10 seconds.");
    }
}
