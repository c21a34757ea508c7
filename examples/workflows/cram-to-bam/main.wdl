version 1.0

# Converts one sample's CRAM to BAM: the small workflow of examples/workflow_from_folder.py.
workflow CramToBam {
    input {
        File input_cram
        File reference_fasta
        String sample_name
        Int threads = 4
        String samtools_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/samtools:1.19"
    }

    call ConvertToBam {
        input:
            input_cram = input_cram,
            reference_fasta = reference_fasta,
            sample_name = sample_name,
            threads = threads,
            image = samtools_image
    }

    output {
        File bam = ConvertToBam.bam
    }
}

task ConvertToBam {
    input {
        File input_cram
        File reference_fasta
        String sample_name
        Int threads
        String image
    }

    command <<<
        samtools view -b -T ~{reference_fasta} -@ ~{threads} -o ~{sample_name}.bam ~{input_cram}
    >>>

    runtime {
        docker: image
        cpu: threads
        memory: "8 GiB"
    }

    output {
        File bam = "~{sample_name}.bam"
    }
}
