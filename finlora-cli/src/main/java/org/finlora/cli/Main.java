package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.kernel.Simd;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code finlora} command: one subcommand per job; user errors print one line and exit 1. */
@Command(name = "finlora", mixinStandardHelpOptions = true, version = "FinLoRA-J 0.1.0",
        description = "Local finetuning, evaluation and serving of quantized financial LLMs with LoRA adapters.",
        footer = {"", "Environment:",
                "  FINLORA_SIMD=scalar|128|256|512  vector width of the kernels (java -Dfinlora.simd=...); default: the widest",
                "                                   the JVM offers. A width wider than that is refused (it would run emulated, far slower).",
                "  FINLORA_JAVA_OPTS                extra JVM options (e.g. -Xmx20g)."},
        subcommands = {DemoCommand.class, InfoCommand.class, GenerateCommand.class, PerplexityCommand.class,
                FinetuneCommand.class, EvalCommand.class, MergeCommand.class, QuantizeCommand.class, BenchCommand.class, TasksCommand.class})
public final class Main implements Runnable {

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
    static boolean debug;

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }

    /** --help and --version on every subcommand, not only the top level. */
    private static void addHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandSpec().mixinStandardHelpOptions()) sub.getCommandSpec().mixinStandardHelpOptions(true);
            addHelp(sub);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this). */
    public static int run(String... args) {
        try {
            Simd.configured();   // a bad -Dfinlora.simd is one line before any command runs
        } catch (FinloraException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
        CommandLine cl = new CommandLine(new Main());
        addHelp(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex));
        try {
            return cl.execute(args);
        } catch (VirtualMachineError e) {
            // picocli hands only Exceptions to the handler: errors such as OutOfMemoryError arrive here
            return report(e);
        }
    }

    /** One line on stderr for whatever ended the command, exit code 1; the trace only with --debug. */
    static int report(Throwable ex) {
        if (debug) ex.printStackTrace(System.err);
        String hint = debug ? "" : " (run with --debug for the stack trace)";
        if (ex instanceof FinloraException) {
            System.err.println("error: " + ex.getMessage());
        } else if (ex instanceof OutOfMemoryError) {
            long max = Runtime.getRuntime().maxMemory() >> 20;
            System.err.println("error: out of memory (heap limit " + max + " MiB): lower --batch-size, --max-seq-len, --rank or --ctx, "
                    + "quantize with --quant nf4, or raise the limit with FINLORA_JAVA_OPTS=-Xmx<size>");
        } else if (ex instanceof StackOverflowError) {
            System.err.println("error: stack overflow (a deeply nested input or a backtracking regex, e.g. a tokenizer's Split pattern "
                    + "(?:.|\\n)*); simplify the input, or raise the thread stack with FINLORA_JAVA_OPTS=-Xss<size>" + hint);
        } else {
            String m = ex.getMessage() == null ? "" : ": " + ex.getMessage().lines().findFirst().orElse("");
            System.err.println("error: " + ex.getClass().getName() + m + hint);
        }
        return 1;
    }
}
