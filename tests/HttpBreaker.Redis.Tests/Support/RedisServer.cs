using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HttpBreaker.Redis.Tests.Support;

/// <summary>
/// A <c>redis-server</c> process of the test's own on 127.0.0.1 and a free port, without persistence, so a restart
/// starts empty. Without the binary the test is ignored, never passed, with the command that installs it.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string InstallCommand = "apt-get install -y redis-server";

    private readonly string _binary;
    private Process? _process;

    private RedisServer(string binary, int port)
    {
        _binary = binary;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        string? binary = FindBinary();
        if (binary is null)
        {
            Assert.Ignore($"redis-server is not installed, so the fleet tests did not run. Install it with `{InstallCommand}` (as root, or with sudo).");
        }

        var server = new RedisServer(binary!, GetFreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the process again on the same port, empty, as after a crash of a server without persistence.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(_binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"{_binary} did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilReadyAsync();
    }

    /// <summary>Kills the process at once, as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private static string? FindBinary()
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return directories.Append("/usr/bin").Append("/usr/sbin").Append("/usr/local/bin")
            .Select(directory => Path.Combine(directory, "redis-server"))
            .FirstOrDefault(File.Exists);
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends PING until the server replies PONG, for at most ten seconds.</summary>
    private async Task WaitUntilReadyAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, deadline.Token);
                NetworkStream stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"), deadline.Token);
                byte[] buffer = new byte[16];
                int read = await stream.ReadAsync(buffer, deadline.Token);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (!deadline.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(20, deadline.Token);
        }
    }
}
