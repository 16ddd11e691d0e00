package org.cloe4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cloe} command line: one sub-command per job. */
@Command(name = "cloe", mixinStandardHelpOptions = true, version = "cloe4j 0.1.0",
        description = "CLoE missing-modality brain-tumour segmentation on the JVM.",
        subcommands = {DemoCommand.class, SynthCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class,
            SegmentCohortCommand.class, BaselineCommand.class, CorruptCommand.class, CalibrateCommand.class,
            CorruptionStudyCommand.class, ShowCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** Builds the command line with every sub-command registered; tests use it to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("cloe " + cmd.getCommandName() + ": " + describe(ex));
            if (Boolean.getBoolean("cloe.stacktrace")) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl;
    }

    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        return msg == null || msg.isBlank() ? ex.getClass().getSimpleName() : msg;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
